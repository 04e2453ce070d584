/**
 * Lua scripts that make each state write atomic in Redis. Defined once per client with
 * `defineCommand`, so ioredis calls them by EVALSHA (one round trip) and reloads them after a
 * Redis restart.
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
 * Compare-and-swap on the state's version. The version is read from the head of the document
 * (serialisation writes it first), with a full JSON decode as fallback.
 * KEYS: state key, channel key, active set. ARGV: expected version, new JSON ('' ends the call),
 * call id. Returns `{2}` written, `{1, currentJson}` conflict, `{0}` missing.
 */
export const COMPARE_AND_SET_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return {0} end
local v = string.match(cur, '^{"version":(%d+)[,}]')
if v == nil then
  local ok, decoded = pcall(cjson.decode, cur)
  if ok and type(decoded) == 'table' then v = decoded['version'] end
end
if tonumber(v) ~= tonumber(ARGV[1]) then return {1, cur} end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
  redis.call('SREM', KEYS[3], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return {2}
`;
