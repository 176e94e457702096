-- Registers a node of the pair in the cluster's meta record, refusing a
-- Redis that holds another pair's data or an unknown snapshot format.
--
-- KEYS[1]  baton:{cluster}:meta  (hash: cluster, format, nodes)
-- KEYS[2]  baton:{cluster}:node:<node id>  (this node's registration marker;
--          its absence later tells this node that Redis lost its data)
-- ARGV[1]  cluster name
-- ARGV[2]  node id
-- ARGV[3]  snapshot format version
--
-- Returns {code, detail}:
--   {0, nodes}    OK (nodes: the pair's node ids, comma-separated)
--   {3, cluster}  CLUSTER_MISMATCH
--   {4, format}   FORMAT_MISMATCH
--   {5, nodes}    PAIR_FULL: two other nodes already use this cluster's data
local meta = redis.call('HMGET', KEYS[1], 'cluster', 'format', 'nodes')
if meta[1] and meta[1] ~= ARGV[1] then return {3, meta[1]} end
if meta[2] and meta[2] ~= ARGV[3] then return {4, meta[2]} end
local list = {}
local found = false
for n in string.gmatch(meta[3] or '', '[^,]+') do
  list[#list + 1] = n
  if n == ARGV[2] then found = true end
end
if not found then
  if #list >= 2 then return {5, meta[3]} end
  list[#list + 1] = ARGV[2]
  table.sort(list)
end
local joined = table.concat(list, ',')
redis.call('HSET', KEYS[1], 'cluster', ARGV[1], 'format', ARGV[3], 'nodes', joined)
redis.call('SET', KEYS[2], ARGV[2])
return {0, joined}
