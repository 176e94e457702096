-- Baseline: creates a counter session's hash unless it exists.
-- KEYS[1]  the session hash, {bench}:session:<id>
-- ARGV[1]  the initial state, JSON
-- ARGV[2]  the session type
-- Returns  1 when created, 0 when the session already existed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'version', 0, 'type', ARGV[2])
return 1
