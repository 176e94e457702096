// `node bench/probe-open-loop.mjs <off|sync|async> <rate> [--rounds N] [--gap-ms N] [--sessions N] [--duration-ms N] [--round-warmup-ms N] [--node-arg=FLAG ...] [--load-arg=FLAG ...]`
//
// One Baton system under an open loop at a fixed rate, round after round,
// with what each round saw: latency from the scheduled send time, the
// generator's own lateness, CPU, the owner's replication lag (sampled every
// 100 ms), every node's event loop delay, the minor page faults each
// process took in the round (warm-up included), and how late a bystander
// process woke on a 1 ms timer meanwhile (with the system idle first, as
// its floor: bench/load/bystander.mjs). For looking into figure 1's p99 at half the
// peak, and for A/B runs of two builds (run it in each checkout after
// `npm run build`). `--gap-ms` leaves the system idle before each round, as
// `npm run bench` does while it measures the other systems (long enough,
// and idle sessions get packed); `--round-warmup-ms` runs that much of the
// same load first, unmeasured, as `npm run bench` does. `--node-arg` passes
// a flag to node in every daemon, e.g. `--node-arg=--cpu-prof
// --node-arg=--cpu-prof-dir=/tmp/prof` for a CPU profile of each daemon,
// written when the probe stops it; `--load-arg` does the same for the load
// worker. Not part of `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_IN_FLIGHT } from './bench-options.mjs';
import { ApplyLoad } from './figures/apply-load.mjs';
import { daemonsOf, startBatonSystem } from './harness/baton-system.mjs';
import { IpcChild } from './harness/ipc-child.mjs';
import { LagSampler } from './harness/lag-sampler.mjs';
import { nodeStatus } from './harness/node-status.mjs';
import { BYSTANDER_PATH } from './harness/paths.mjs';
import { PROCESS_ARG_OPTIONS, PROCESS_ARG_USAGE, probeArgs, processArgs } from './harness/probe-args.mjs';
import { readMinorFaults } from './harness/process-stats.mjs';
import { ProcessRegistry } from './harness/process-registry.mjs';
import { startRedisServer } from './harness/redis-server.mjs';

const USAGE = `usage: node bench/probe-open-loop.mjs <off|sync|async> <rate ops/s> [--rounds N (4)] [--gap-ms N (0)] [--sessions N (1000)] [--duration-ms N (6000)] [--round-warmup-ms N (0)] ${PROCESS_ARG_USAGE}`;
const ROUND_WARMUP_MS = 2_000;
const LAP_TIMEOUT_MS = 10_000;
/** How long the bystander's idle floor is measured before the rounds. */
const IDLE_LAP_MS = 2_000;
const WARMUP_CONCURRENCY = 64;

function parse(argv) {
  const { positionals, values, fail, integer } = probeArgs(
    argv,
    USAGE,
    { rounds: { type: 'string' }, 'gap-ms': { type: 'string' }, sessions: { type: 'string' }, 'duration-ms': { type: 'string' }, 'round-warmup-ms': { type: 'string' }, ...PROCESS_ARG_OPTIONS },
    { allowPositionals: true },
  );
  const [mode, rateText] = positionals;
  if (!['off', 'sync', 'async'].includes(mode)) fail(`the mode must be off, sync or async, got "${mode ?? ''}"`);
  return {
    mode,
    rate: integer('the rate', rateText ?? fail('the rate is missing'), 0, 1),
    rounds: integer('--rounds', values.rounds, 4, 1),
    gapMs: integer('--gap-ms', values['gap-ms'], 0, 0),
    sessions: integer('--sessions', values.sessions, 1_000, 1),
    durationMs: integer('--duration-ms', values['duration-ms'], 6_000, 100),
    roundWarmupMs: integer('--round-warmup-ms', values['round-warmup-ms'], 0, 0),
    ...processArgs(values),
  };
}

const options = parse(process.argv.slice(2));
const registry = new ProcessRegistry((message) => process.stderr.write(`${message}\n`));
const tempDir = mkdtempSync(join(tmpdir(), 'baton-probe-'));
process.on('exit', () => registry.killAllNow());
try {
  const redis = await startRedisServer(registry, tempDir);
  const system = await startBatonSystem(registry, { mode: options.mode, cluster: 'probe', redis, nodeArgs: options.nodeArgs });
  const settings = { sessions: options.sessions, maxInFlight: MAX_IN_FLIGHT };
  const load = await ApplyLoad.start(registry, { key: options.mode, label: options.mode, addresses: system.addresses, serverPids: system.pids, settings, workerArgs: options.loadArgs });
  await load.closedLoop(ROUND_WARMUP_MS, WARMUP_CONCURRENCY);
  const bystander = IpcChild.fork(registry, 'bystander', BYSTANDER_PATH);
  // Its floor with the system idle, for comparing the rounds' readings with.
  await bystander.request('lap', {}, LAP_TIMEOUT_MS);
  await sleep(IDLE_LAP_MS);
  const floor = await bystander.request('lap', {}, LAP_TIMEOUT_MS);
  process.stdout.write(`${options.mode} at ${options.rate} ops/s, ${options.sessions} sessions, ${options.durationMs} ms rounds${options.gapMs > 0 ? `, ${options.gapMs} ms idle before each` : ''}\n`);
  process.stdout.write(`bystander (a process waking every ms) late p99/max with the system idle: ${floor.p99.toFixed(1)}/${floor.max.toFixed(1)} ms\n`);
  const watched = [...daemonsOf(system), { role: 'load worker', pid: load.worker.pid }];
  for (let round = 1; round <= options.rounds; round++) {
    if (options.gapMs > 0) await sleep(options.gapMs);
    const faultsBefore = watched.map(({ pid }) => readMinorFaults(pid));
    const sampler = options.mode === 'off' ? undefined : new LagSampler(system.controls[0]);
    await bystander.request('lap', {}, LAP_TIMEOUT_MS);
    const r = await load.openLoop(options.rate, options.durationMs, options.roundWarmupMs);
    const lag = sampler?.stop();
    const faults = watched.map(({ role, pid }, i) => `${role} ${readMinorFaults(pid) - faultsBefore[i]}`).join(', ');
    const idle = await bystander.request('lap', {}, LAP_TIMEOUT_MS);
    // A node's loop delay covers its last complete 10 s window (or the current one).
    const loops = await Promise.all(system.controls.map(nodeStatus));
    const f = (n) => n.toFixed(1);
    process.stdout.write(
      `round ${round}: ${Math.round(r.achievedRate)} ops/s, p50 ${f(r.latency.p50)} ms, p99 ${f(r.latency.p99)} ms, max ${f(r.latency.max)} ms; ` +
        `generator late p99 ${f(r.sendLag.p99)} ms; bystander late p99/max ${f(idle.p99)}/${f(idle.max)} ms; server CPU ${Math.round(r.serverCpuPercent)}%, load CPU ${Math.round(r.loadCpuPercent)}%` +
        `${lag ? `; replication lag max ${lag.records.max} records / ${lag.ms.max} ms` : ''}; ` +
        `loop delay p99/max ${loops.map((s) => `${f(s.eventLoopDelayP99Ms)}/${f(s.eventLoopDelayMaxMs)} ms`).join(', ')}; ` +
        `minor page faults ${faults}` +
        `${r.errors > 0 ? `; ${r.errors} errors (${r.firstError})` : ''}${r.dropped > 0 ? `; ${r.dropped} dropped` : ''}\n`,
    );
  }
  await load.stop();
} finally {
  await registry.stopAll();
  rmSync(tempDir, { recursive: true, force: true });
}
