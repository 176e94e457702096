-- Writes a batch of session records of one owner, fenced by epoch: a writer
-- whose epoch is lower than the cluster's is refused, and a record stamped by
-- a newer epoch is never overwritten.
--
-- KEYS[1]     baton:{cluster}:node:<owner>  (the writer's registration
--             marker: when it is gone, Redis lost its data)
-- KEYS[2]     baton:{cluster}:epoch  (highest epoch seen; raised to ARGV[1])
-- KEYS[3..n]  baton:{cluster}:s:<session id>, one per record
-- ARGV[1]     the writer's epoch
-- ARGV[2]     the owner's node id
-- ARGV[3..]   per record, three values: op ("s" set or "d" delete),
--             version, encoded record (empty for a delete)
--
-- Returns {code, detail}:
--   {0, written}       OK
--   {1, stored epoch}  STALE_EPOCH: nothing was written
--   {2, 0}             NOT_REGISTERED: Redis lost its data; nothing was written
if redis.call('EXISTS', KEYS[1]) == 0 then return {2, 0} end
local epoch = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
if stored > epoch then return {1, stored} end
if stored < epoch then redis.call('SET', KEYS[2], ARGV[1]) end
local written = 0
for i = 3, #KEYS do
  local base = 2 + (i - 3) * 3
  local current = tonumber(redis.call('HGET', KEYS[i], 'e') or '0')
  if current <= epoch then
    if ARGV[base + 1] == 'd' then
      redis.call('DEL', KEYS[i])
    else
      redis.call('HSET', KEYS[i], 'v', ARGV[base + 2], 'e', ARGV[1], 'o', ARGV[2], 'r', ARGV[base + 3])
    end
    written = written + 1
  end
end
return {0, written}
