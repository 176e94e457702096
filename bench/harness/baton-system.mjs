// One Baton system of figure 1 on the run's Redis: a single daemon
// (replication off) or a pair with sync or async replication.
import { startBatonDaemon } from './baton-daemon.mjs';
import { redisArgs, startBatonPair } from './baton-pair.mjs';

/**
 * Starts `mode` ('off', 'sync' or 'async') as cluster `cluster`; resolves
 * with { addresses, controls } (the owner first), `pids` (the daemons' and
 * redis-server's, whose CPU counts as the server's) and the daemons' `children`.
 */
export async function startBatonSystem(registry, { mode, cluster, redis, nodeArgs = [] }) {
  if (mode === 'off') {
    const node = await startBatonDaemon(registry, { nodeId: `${cluster}-a`, nodeArgs, extraArgs: redisArgs(redis.port, cluster) });
    return { addresses: [node.sessionAddress], controls: [node.controlAddress], pids: [node.pid, redis.pid], children: [node.child] };
  }
  const { primary, secondary } = await startBatonPair(registry, { cluster, durability: mode, redisPort: redis.port, nodeArgs });
  return {
    addresses: [primary.sessionAddress, secondary.sessionAddress],
    controls: [primary.controlAddress, secondary.controlAddress],
    pids: [primary.pid, secondary.pid, redis.pid],
    children: [primary.child, secondary.child],
  };
}

/** The daemons of a system started by startBatonSystem, named by role: [{ role: 'owner', pid }, { role: 'replica', pid }]. */
export const daemonsOf = (system) => system.children.map((child, i) => ({ role: i === 0 ? 'owner' : 'replica', pid: child.pid }));
