// `node bench/probe-cost.mjs [--modes off,sync,async] [--concurrency N] [--rounds N] [--duration-ms N] [--node-arg=FLAG ...] [--load-arg=FLAG ...]`
//
// What one operation costs each process at saturation: replication off
// and a pair side by side (each with its own load worker, on one private
// redis-server), measured in alternating closed-loop rounds, and for each
// round the CPU microseconds per operation of the owner, the replica and
// the load worker (from /proc, user + system, every thread), beside how
// busy the whole machine was (/proc/stat). Figure 1's peaks are these
// costs seen through two shared cores: when the machine is saturated, a
// mode's peak is about the CPU there is divided by its cost per operation,
// so the ratio of two modes' costs is what their peaks' ratio tends to.
// For finding where a mode's cost goes, and for A/B runs of two builds
// (run it in each checkout after `npm run build`). `--node-arg` and
// `--load-arg` pass a flag to node in every daemon and in the load workers,
// e.g. `--load-arg=--cpu-prof --load-arg=--cpu-prof-dir=/tmp/prof` for a
// CPU profile of each load worker, written when the probe stops it. Not
// part of `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplyLoad } from './figures/apply-load.mjs';
import { daemonsOf, startBatonSystem } from './harness/baton-system.mjs';
import { machineBusy, readCpuMs } from './harness/process-stats.mjs';
import { PROCESS_ARG_OPTIONS, PROCESS_ARG_USAGE, probeArgs, processArgs } from './harness/probe-args.mjs';
import { ProcessRegistry } from './harness/process-registry.mjs';
import { startRedisServer } from './harness/redis-server.mjs';
import { spread } from './report/spread.mjs';

const USAGE = `usage: node bench/probe-cost.mjs [--modes off,sync,async (off,sync)] [--concurrency N (1024)] [--rounds N (5)] [--duration-ms N (3000)] ${PROCESS_ARG_USAGE}`;
const MODES = ['off', 'sync', 'async'];
const WARMUP_MS = 2_000;
const SESSIONS = 1_000;

function parse(argv) {
  const { values, fail, integer } = probeArgs(argv, USAGE, {
    modes: { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
    'duration-ms': { type: 'string' },
    ...PROCESS_ARG_OPTIONS,
  });
  const modes = (values.modes ?? 'off,sync').split(',').map((m) => m.trim());
  if (modes.some((m) => !MODES.includes(m))) fail(`--modes takes a comma-separated list of ${MODES.join(', ')}, got "${values.modes}"`);
  return {
    modes: [...new Set(modes)],
    concurrency: integer('--concurrency', values.concurrency, 1024, 1, 16_384),
    rounds: integer('--rounds', values.rounds, 5, 1, 100),
    durationMs: integer('--duration-ms', values['duration-ms'], 3_000, 100, 600_000),
    ...processArgs(values),
  };
}

const options = parse(process.argv.slice(2));
const registry = new ProcessRegistry((message) => process.stderr.write(`${message}\n`));
const tempDir = mkdtempSync(join(tmpdir(), 'baton-cost-'));
process.on('exit', () => registry.killAllNow());
const fmt = (us) => us.toFixed(2);
try {
  const redis = await startRedisServer(registry, tempDir);
  const systems = [];
  for (const mode of options.modes) {
    const system = await startBatonSystem(registry, { mode, cluster: `cost-${mode}`, redis, nodeArgs: options.nodeArgs });
    const load = await ApplyLoad.start(registry, { key: mode, label: mode, addresses: system.addresses, serverPids: system.pids, settings: { sessions: SESSIONS }, workerArgs: options.loadArgs });
    await load.closedLoop(WARMUP_MS, options.concurrency);
    // The daemons (owner first), then the load worker; redis-server is shared and left out.
    const daemons = daemonsOf(system);
    systems.push({ mode, load, roles: [...daemons.map((d) => d.role), 'load'], pids: [...daemons.map((d) => d.pid), load.worker.pid], rounds: [] });
  }
  process.stdout.write(`${options.concurrency} operations in flight over ${SESSIONS} sessions, ${options.durationMs} ms rounds; CPU us per operation\n`);
  for (let round = 1; round <= options.rounds; round++) {
    for (const system of systems) {
      const before = system.pids.map(readCpuMs);
      const busy = machineBusy();
      const result = await system.load.closedLoop(options.durationMs, options.concurrency);
      const busyPercent = busy();
      const perOp = system.pids.map((pid, i) => ((readCpuMs(pid) - before[i]) * 1000) / result.completed);
      const total = perOp.reduce((a, b) => a + b, 0);
      system.rounds.push({ perOp, total, opsPerSec: result.opsPerSec });
      process.stdout.write(
        `round ${round} ${system.mode}: ${Math.round(result.opsPerSec)} ops/s; ${system.roles.map((r, i) => `${r} ${fmt(perOp[i])}`).join(', ')}; ` +
          `sum ${fmt(total)}; machine ${Math.round(busyPercent)}% busy of ${100 * busy.cpus}%\n`,
      );
    }
  }
  process.stdout.write('median of the rounds:\n');
  for (const system of systems) {
    const median = (pick) => spread(system.rounds.map(pick)).median;
    const parts = system.roles.map((r, i) => `${r} ${fmt(median((x) => x.perOp[i]))}`).join(', ');
    process.stdout.write(`  ${system.mode}: ${Math.round(median((x) => x.opsPerSec))} ops/s; ${parts}; sum ${fmt(median((x) => x.total))} us\n`);
  }
  const off = systems.find((s) => s.mode === 'off');
  for (const system of systems.filter((s) => s !== off && off !== undefined)) {
    const ratios = system.rounds.map((r, i) => off.rounds[i].total / r.total);
    const s = spread(ratios);
    process.stdout.write(`  off's cost / ${system.mode}'s, per round pair: ${s.median.toFixed(2)}x [${s.min.toFixed(2)}-${s.max.toFixed(2)}]\n`);
  }
  for (const system of systems) await system.load.stop();
} finally {
  await registry.stopAll();
  rmSync(tempDir, { recursive: true, force: true });
}
