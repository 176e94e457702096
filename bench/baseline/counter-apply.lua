-- Baseline: one counter operation as an atomic read-modify-write, the way a
-- stateless server keeps its sessions in Redis. Mirrors the operations of
-- examples/handlers/counter that the benchmark sends.
-- KEYS[1]  the session hash, {bench}:session:<id>
-- ARGV[1]  the operation, JSON: {"type":"add","by"?:n} | {"type":"get"} | {"type":"pad","bytes":n}
-- Returns  {version, reply JSON} after the operation;
--          error "NOT_FOUND ..." when the session does not exist,
--          error "REJECTED ..." for an operation this script does not know.
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then
  return redis.error_reply('NOT_FOUND session ' .. KEYS[1] .. ' does not exist')
end
local state = cjson.decode(raw)
local op = cjson.decode(ARGV[1])
local reply
if op.type == 'add' then
  state.value = state.value + (op.by or 1)
  reply = { value = state.value }
elseif op.type == 'get' then
  reply = { value = state.value }
elseif op.type == 'pad' then
  state.pad = string.rep('x', op.bytes)
  reply = { padded = op.bytes }
else
  return redis.error_reply('REJECTED unknown operation type ' .. tostring(op.type))
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', cjson.encode(state))
return { version, cjson.encode(reply) }
