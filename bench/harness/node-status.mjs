// A node's status as the operator sees it: `baton status --json`.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI_PATH } from './paths.mjs';

const run = promisify(execFile);
const STATUS_TIMEOUT_MS = 10_000;

/** The NodeStatus of the daemon whose ControlService listens on `controlAddress`. */
export async function nodeStatus(controlAddress) {
  const { stdout } = await run(process.execPath, [CLI_PATH, 'status', '--control', controlAddress, '--json'], { timeout: STATUS_TIMEOUT_MS });
  const [report] = JSON.parse(stdout);
  if (!report?.reachable) throw new Error(`baton status: ${controlAddress} unreachable: ${report?.error}`);
  return report.status;
}
