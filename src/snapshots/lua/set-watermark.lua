-- Records which offset of an owner's replication log the snapshot reflects.
--
-- KEYS[1]  baton:{cluster}:node:<owner>  (registration marker, as above)
-- KEYS[2]  baton:{cluster}:epoch
-- KEYS[3]  baton:{cluster}:watermarks  (hash: owner node id -> "replid:offset")
-- ARGV[1]  the writer's epoch
-- ARGV[2]  the owner's node id
-- ARGV[3]  "replication id:offset"
--
-- Returns {code, detail}: {0, 0} OK, {1, stored epoch} STALE_EPOCH,
-- {2, 0} NOT_REGISTERED.
if redis.call('EXISTS', KEYS[1]) == 0 then return {2, 0} end
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
if stored > tonumber(ARGV[1]) then return {1, stored} end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {0, 0}
