// Starts the baseline server (bench/baseline/redis-session-server.mjs) as a
// child process of its own, pointed at the run's redis-server.
import { BASELINE_SERVER_PATH } from './paths.mjs';
import { IpcChild } from './ipc-child.mjs';

const READY_TIMEOUT_MS = 15_000;

/** Resolves with { pid, address, child } once the baseline listens. */
export async function startBaselineServer(registry, redisPort) {
  const server = IpcChild.fork(registry, 'baseline server', BASELINE_SERVER_PATH, [String(redisPort)]);
  const ready = await server.waitForMessage('ready', READY_TIMEOUT_MS);
  return { pid: server.pid, address: ready.address, child: server.child };
}
