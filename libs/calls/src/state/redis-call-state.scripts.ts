/**
 * Lua scripts that make each state write atomic in Redis, each sent by EVALSHA (one round trip)
 * and loaded again when Redis lost it (a restart): create and end through ioredis'
 * `defineCommand`, the compare-and-swap as a plain EVALSHA, with EVAL on `NOSCRIPT`
 * (`RedisCallStateStore`).
 *
 * The stored document starts with its version (`{"version":12,…`; serialisation writes it
 * first), so a compare-and-swap compares the head of the stored value (`GETRANGE`) with the
 * expected head the caller sends, a string compare of a few bytes: the document is not copied
 * into Lua. A document written in another field order (an older writer) is decoded instead.
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

/** The expected head of a stored document of this version, as the scripts compare it. */
export function versionHead(version: number): string {
  return `{"version":${version},`;
}

/**
 * Lua function `check(key, head)`: whether the document stored at `key` has the expected head
 * (see {@link versionHead}). Returns true when it has, 0 when the key is missing, the error of
 * the key (e.g. another type), or else the stored document (a conflict: the caller retries from
 * it without another read).
 */
const CHECK_VERSION = `
local function check(key, head)
  local got = redis.pcall('GETRANGE', key, 0, #head - 1)
  if got == head then return true end
  if type(got) == 'table' then return got end
  local cur = redis.call('GET', key)
  if not cur then return 0 end
  if string.sub(cur, 1, 11) ~= '{"version":' then
    local ok, doc = pcall(cjson.decode, cur)
    if ok and type(doc) == 'table' and '{"version":' .. tostring(doc['version']) .. ',' == head then
      return true
    end
  end
  return cur
end
`;

/**
 * Compare-and-swap of one or more calls (the writes of several calls issued together go as one
 * script run; each is checked and written on its own).
 * KEYS: the state keys. ARGV: the expected heads, then the new JSONs, in the order of KEYS.
 * Returns, per key, `1` written, `0` missing, the stored JSON on a conflict, or the key's error,
 * which does not stop the others: as an array, or alone for a single key.
 */
export const COMPARE_AND_SET_SCRIPT = `${CHECK_VERSION}
local n = #KEYS
local function write(i)
  local res = check(KEYS[i], ARGV[i])
  if res ~= true then return res end
  redis.call('SET', KEYS[i], ARGV[n + i])
  return 1
end
if n == 1 then return write(1) end
local out = {}
for i = 1, n do out[i] = write(i) end
return out
`;

/**
 * Compare-and-delete: ends a call if its version is still the expected one, removing its state,
 * its channel lookup (when it still points to this call) and its active-set entry together.
 * KEYS: state key, channel key, active set. ARGV: expected head, call id.
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
