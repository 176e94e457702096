// A real `baton daemon` process, as a user runs it, on ports the OS picks.
import { spawn } from 'node:child_process';
import { childExit } from './child-exit.mjs';
import { LineReader } from './line-reader.mjs';
import { CLI_PATH, COUNTER_HANDLER_PATH } from './paths.mjs';

const READY_TIMEOUT_MS = 15_000;

function readyLine(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line);
    return entry.msg === 'node ready' ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a daemon serving the counter handler; resolves with
 * { pid, sessionAddress, controlAddress, ready, child } once it logged
 * "node ready" (`ready` is that log entry). `nodeArgs` go to node itself
 * (before the script), `extraArgs` to the daemon.
 */
export async function startBatonDaemon(registry, { nodeId, control = '127.0.0.1:0', nodeArgs = [], extraArgs = [], env = {} }) {
  const args = [
    ...nodeArgs,
    CLI_PATH,
    'daemon',
    '--node-id', nodeId,
    '--listen', '127.0.0.1:0',
    '--control', control,
    '--handler', `counter=${COUNTER_HANDLER_PATH}`,
    // "node ready" is logged at info; nothing is logged per operation.
    '--log-level', 'info',
    '--grace-ms', '1000',
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const out = new LineReader(child.stdout);
  const err = new LineReader(child.stderr);
  registry.track(`baton daemon ${nodeId}`, child, () => [out.tail(), err.tail()].filter(Boolean).join('\n'));
  const ready = await out.waitFor(readyLine, READY_TIMEOUT_MS, childExit(child), `baton daemon ${nodeId} "node ready" log line`);
  return { pid: child.pid, sessionAddress: ready.sessionAddress, controlAddress: ready.controlAddress, ready, child };
}
