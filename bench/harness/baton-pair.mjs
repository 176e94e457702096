// A two-node pair as DESIGN.md deploys it: A primary (owns every session),
// B secondary (hot standby, A's replica), each told the other's control
// address with --peer, both snapshotting to the run's Redis.
import { startBatonDaemon } from './baton-daemon.mjs';
import { freePort } from './free-port.mjs';
import { nodeStatus } from './node-status.mjs';
import { waitUntil } from './wait-until.mjs';

const ATTACH_TIMEOUT_MS = 20_000;

/** Daemon flags that put a node on the run's Redis under its own cluster name. */
export function redisArgs(redisPort, cluster) {
  return ['--redis', `redis://127.0.0.1:${redisPort}`, '--cluster', cluster];
}

/**
 * Starts both nodes and waits until B replicates A; resolves with
 * { primary, secondary } (each as startBatonDaemon gives it).
 */
export async function startBatonPair(registry, { cluster, durability, redisPort, nodeArgs = [] }) {
  const controlA = `127.0.0.1:${await freePort()}`;
  const controlB = `127.0.0.1:${await freePort()}`;
  const common = [...redisArgs(redisPort, cluster), '--durability', durability];
  const [primary, secondary] = await Promise.all([
    startBatonDaemon(registry, { nodeId: `${cluster}-a`, control: controlA, nodeArgs, extraArgs: [...common, '--role', 'primary', '--peer', controlB] }),
    startBatonDaemon(registry, { nodeId: `${cluster}-b`, control: controlB, nodeArgs, extraArgs: [...common, '--role', 'secondary', '--peer', controlA] }),
  ]);
  await waitUntil(async () => (await nodeStatus(primary.controlAddress)).replication.replicaAttached, ATTACH_TIMEOUT_MS, `${cluster}: replica B attached to A`);
  return { primary, secondary };
}
