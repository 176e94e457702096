// Drives one system (a Baton daemon or the baseline) for figure 1: a load
// worker process with its sessions opened and warmed up, and the pids whose
// CPU time counts as the server's.
import { IpcChild } from '../harness/ipc-child.mjs';
import { LOAD_WORKER_PATH } from '../harness/paths.mjs';
import { cpuMeter } from '../harness/process-stats.mjs';

const SETUP_TIMEOUT_MS = 120_000;
/** Slack over a measurement's own duration before its answer counts as lost. */
const ANSWER_SLACK_MS = 30_000;
const OP = { type: 'add' };
/** Sessions opened at once before a system is measured. */
const OPEN_CONCURRENCY = 64;
/** A round where more operations than this fail measures a broken system, not a slow one: the run stops. */
const MAX_ERROR_RATIO = 0.01;

export class ApplyLoad {
  constructor(key, label, worker, serverPids, settings) {
    this.key = key;
    this.label = label;
    this.worker = worker;
    this.serverPids = serverPids;
    this.settings = settings;
  }

  /**
   * Forks a load worker for the system at `addresses` and opens
   * settings.sessions counter sessions. `workerArgs` go to node itself in
   * the worker (a probe's `--load-arg`).
   */
  static async start(registry, { key, label, addresses, serverPids, settings, workerArgs = [] }) {
    const worker = IpcChild.fork(registry, `load worker (${label})`, LOAD_WORKER_PATH, [], workerArgs);
    await worker.request('connect', { addresses }, SETUP_TIMEOUT_MS);
    const opened = await worker.request('open', { prefix: `${key}-`, count: settings.sessions, concurrency: OPEN_CONCURRENCY }, SETUP_TIMEOUT_MS);
    if (opened.errors > 0) throw new Error(`${label}: ${opened.errors} of ${settings.sessions} sessions failed to open: ${opened.firstError}`);
    return new ApplyLoad(key, label, worker, serverPids, settings);
  }

  /**
   * Closed loop with `concurrency` operations in flight for `durationMs`,
   * after `warmupMs` of the same load that is not measured (the server's
   * CPU is counted over both: the same load).
   */
  async closedLoop(durationMs, concurrency, warmupMs = 0) {
    const args = { prefix: `${this.key}-`, count: this.settings.sessions, concurrency, durationMs, warmupMs, op: OP };
    return this.#measured('closedLoop', args, warmupMs + durationMs);
  }

  /** Open loop at `rate` operations per second for `durationMs`, after `warmupMs` as closedLoop's. */
  async openLoop(rate, durationMs, warmupMs = 0) {
    const { sessions, maxInFlight } = this.settings;
    return this.#measured('openLoop', { prefix: `${this.key}-`, count: sessions, rate, durationMs, warmupMs, maxInFlight, op: OP }, warmupMs + durationMs);
  }

  async stop() {
    await this.worker.request('shutdown', {}, SETUP_TIMEOUT_MS).catch(() => {});
  }

  async #measured(command, args, durationMs) {
    const meter = cpuMeter(this.serverPids);
    const result = await this.worker.request(command, args, durationMs + ANSWER_SLACK_MS);
    const cpu = meter();
    if (result.errors > MAX_ERROR_RATIO * (result.completed + result.errors)) {
      throw new Error(`${this.label}: ${result.errors} operations failed in a ${command} round (first: ${result.firstError})`);
    }
    return { ...result, serverCpuPercent: cpu.reduce((a, b) => a + b, 0) };
  }
}
