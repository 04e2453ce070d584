/**
 * Lua scripts that make each state write atomic in Redis. Defined once per client with
 * `defineCommand`, so ioredis calls them by EVALSHA (one round trip) and reloads them after a
 * Redis restart.
 *
 * The stored document starts with its version (`{"version":12,…`; serialisation writes it
 * first), so a compare reads only the head of the value (`GETRANGE`) instead of copying the whole
 * document into Lua; a document written in another field order (an older writer) is decoded
 * instead. The version is compared as the decimal string the repository sends.
 */

/**
 * Creates a call unless its channel already has one.
 * KEYS: channel key, new state key, active set. ARGV: call id, state JSON, state key prefix.
 * Returns `{1}` when created, `{0, existingStateJson}` otherwise.
 */
export const CREATE_CALL_SCRIPT = `
local existing = redis.call('GET', KEYS[1])
if existing then
  local state = redis.call('GET', ARGV[3] .. existing)
  if state then return {0, state} end
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return {1}
`;

/**
 * Lua function `check(key, expected)`: the stored version of `key` against `expected` (a
 * decimal string). Returns true when they match, 0 when the key is missing, else the stored
 * document (a conflict; the caller retries from it without another read).
 */
const CHECK_VERSION = `
local function check(key, expected)
  local head = redis.call('GETRANGE', key, 0, 31)
  local v = string.match(head, '^{"version":(%d+)[,}]')
  if v == expected then return true end
  local cur = redis.call('GET', key)
  if not cur then return 0 end
  if v == nil then
    local ok, decoded = pcall(cjson.decode, cur)
    if ok and type(decoded) == 'table' and tostring(decoded['version']) == expected then
      return true
    end
  end
  return cur
end
`;

/**
 * Compare-and-swap of one or more calls (the writes of several calls issued together go as one
 * script run; each is checked and written on its own).
 * KEYS: the state keys. ARGV: the expected versions, then the new JSONs, in the order of KEYS.
 * Returns one entry per key: `1` written, `0` missing, the stored JSON on a conflict, or the
 * error of that key (e.g. a key of another type), which does not stop the others.
 */
export const COMPARE_AND_SET_SCRIPT = `${CHECK_VERSION}
local n = #KEYS
local out = {}
for i = 1, n do
  local ok, res = pcall(check, KEYS[i], ARGV[i])
  if not ok then
    out[i] = type(res) == 'table' and res or {err = tostring(res)}
  elseif res == true then
    redis.call('SET', KEYS[i], ARGV[n + i])
    out[i] = 1
  else
    out[i] = res
  end
end
return out
`;

/**
 * Compare-and-delete: ends a call if its version is still the expected one, removing its state,
 * its channel lookup (when it still points to this call) and its active-set entry together.
 * KEYS: state key, channel key, active set. ARGV: expected version, call id.
 * Returns `1` deleted, `0` missing, or the stored JSON on a conflict.
 */
export const END_CALL_SCRIPT = `${CHECK_VERSION}
local res = check(KEYS[1], ARGV[1])
if res ~= true then return res end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('SREM', KEYS[3], ARGV[2])
return 1
`;
