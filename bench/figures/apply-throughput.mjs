// Figure 1: apply throughput and latency through the SDK's streaming path
// (BatonClient.apply, default transport): Baton with replication off (one
// daemon), sync and async (a pair), beside the Redis baseline. Every system
// serves the same sessions with the same number of operations in flight,
// and their rounds are interleaved in a rotating order so that the
// machine's noise falls on all of them alike.
import { startBaselineServer } from '../harness/baseline-server.mjs';
import { startBatonSystem } from '../harness/baton-system.mjs';
import { figureRow, measured, notMeasured } from '../report/figure-row.mjs';
import { spread } from '../report/spread.mjs';
import { LagSampler } from '../harness/lag-sampler.mjs';
import { ApplyLoad } from './apply-load.mjs';

const P99_GOAL_MS = 5;
/** Sync replication's peak at least this share of replication off's. */
const SYNC_VS_OFF_GOAL = 0.6;
const SYNC_RATIO_GOAL = 2;
const BASELINE_NAME = 'stateless gRPC + Redis Lua RMW';

/** The Baton configurations, in table order. */
const MODES = [
  { key: 'off', label: 'Baton, replication off', rowName: 'replication off' },
  { key: 'sync', label: 'Baton, sync replication', rowName: 'sync replication' },
  { key: 'async', label: 'Baton, async replication', rowName: 'async replication' },
];

/** Runs `measure(system)` for every system per round, rotating who goes first. */
async function interleaved(systems, rounds, measure, progress, what) {
  const results = Object.fromEntries(systems.map((s) => [s.key, []]));
  for (let round = 0; round < rounds; round++) {
    const order = systems.map((_, i) => systems[(i + round) % systems.length]);
    for (const system of order) {
      const result = await measure(system);
      results[system.key].push(result);
      progress(`${what} round ${round + 1}/${rounds} ${system.label}: ${describe(result)}`);
    }
  }
  return results;
}

function describe(r) {
  const rate = r.opsPerSec ?? r.achievedRate;
  const lat = r.latency === null ? 'no latency' : `p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms`;
  const errors = r.errors > 0 ? `, ${r.errors} errors (${r.firstError})` : '';
  const dropped = r.dropped > 0 ? `, ${r.dropped} dropped` : '';
  const lag = r.sendLag ? `, generator lag p99 ${r.sendLag.p99.toFixed(2)} ms` : '';
  return `${Math.round(rate)} ops/s, ${lat}, server CPU ${Math.round(r.serverCpuPercent)}%, load CPU ${Math.round(r.loadCpuPercent)}%${lag}${errors}${dropped}`;
}

/**
 * Starts every system and measures them; returns the raw rounds, plus the
 * reason for each mode that could not be started.
 */
export async function runApplyBenchmark({ registry, redis, settings, progress }) {
  const systems = [];
  const children = [];
  const unavailable = {};
  try {
    progress(`starting the systems and opening ${settings.sessions} counter sessions on each`);
    const baseline = await startBaselineServer(registry, redis.port);
    children.push(baseline.child);
    const started = await Promise.all(
      MODES.map(({ key, label }) =>
        startBatonSystem(registry, { mode: key, cluster: `bench-${key}`, redis }).then(
          (servers) => {
            children.push(...servers.children);
            // Only a pair's owner has a replica lag to sample.
            const ownerControl = key === 'off' ? undefined : servers.controls[0];
            return ApplyLoad.start(registry, { key, label, addresses: servers.addresses, serverPids: servers.pids, settings }).then((load) =>
              Object.assign(load, { ownerControl }),
            );
          },
          (err) => {
            unavailable[key] = `could not be started: ${err.message.split('\n')[0]}`;
            progress(`${label}: ${unavailable[key]}`);
            return undefined;
          },
        ),
      ),
    );
    systems.push(...started.filter((system) => system !== undefined));
    systems.push(await ApplyLoad.start(registry, { key: 'baseline', label: 'Redis baseline', addresses: [baseline.address], serverPids: [baseline.pid, redis.pid], settings }));
    for (const system of systems) {
      progress(`warming up ${system.label} for ${settings.warmupMs} ms`);
      await system.closedLoop(settings.warmupMs);
    }
    // In the replicated modes, the owner's replication lag is sampled during each peak round.
    const peak = await interleaved(
      systems,
      settings.rounds,
      async (s) => {
        const sampler = s.ownerControl === undefined ? undefined : new LagSampler(s.ownerControl);
        const result = await s.closedLoop(settings.measureMs);
        return sampler === undefined ? result : { ...result, replicationLag: sampler.stop() };
      },
      progress,
      'peak',
    );
    const halfRates = Object.fromEntries(
      systems.map((s) => [s.key, Math.max(1, Math.round(spread(peak[s.key].map((r) => r.opsPerSec)).median / 2))]),
    );
    const half = await interleaved(systems, settings.rounds, (s) => s.openLoop(halfRates[s.key], settings.measureMs), progress, 'half-peak');
    return { peak, half, halfRates, unavailable };
  } finally {
    for (const system of systems) await system.stop();
    await Promise.all(children.map((child) => registry.stop(child)));
  }
}

const latencyOf = (rounds, key) => rounds.map((r) => r.latency?.[key] ?? Number.NaN);
const lagP99 = (rounds) => spread(rounds.map((r) => r.sendLag?.p99 ?? Number.NaN)).median.toFixed(2);

/** Errors, drops and CPU of a side's rounds, kept beside its figure. */
function health(rounds) {
  return {
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    dropped: rounds.reduce((n, r) => n + (r.dropped ?? 0), 0),
    serverCpuPercent: rounds.map((r) => Math.round(r.serverCpuPercent)),
    loadCpuPercent: rounds.map((r) => Math.round(r.loadCpuPercent)),
  };
}

function side(rounds, pick, extra = {}) {
  return measured(rounds.map(pick), { ...health(rounds), ...extra });
}

/** Replication lag rows of a replicated mode: what the replica had not acknowledged, sampled at peak. */
function lagRows({ key, rowName }, { peak, unavailable }) {
  if (key === 'off') return [];
  const missing = unavailable[key] !== undefined || peak[key] === undefined;
  const of = (unit, pick) =>
    missing ? notMeasured(unavailable[key] ?? 'not run') : measured(peak[key].map((r) => pick(r.replicationLag)));
  const note = missing
    ? undefined
    : `the owner's reported lag, sampled every 100 ms during each peak round (${peak[key].map((r) => r.replicationLag.samples).join('/')} samples); median of the rounds' medians, and the largest seen: ${Math.max(...peak[key].map((r) => r.replicationLag.records.max))} records, ${Math.max(...peak[key].map((r) => r.replicationLag.ms.max))} ms`;
  return [
    figureRow({ figure: '1', id: `apply.${key}.lag.records`, name: `Replication lag at peak, ${rowName}`, unit: 'records', better: 'lower', baton: of('records', (l) => l.records.median), note }),
    figureRow({ figure: '1', id: `apply.${key}.lag.ms`, name: `Replication lag age at peak, ${rowName}`, unit: 'ms', better: 'lower', baton: of('ms', (l) => l.ms.median) }),
  ];
}

/** The four rows of one Baton mode. */
function modeRows({ key, rowName }, { peak, half, halfRates, unavailable }, settings) {
  const base = { figure: '1', paired: true, baselineName: BASELINE_NAME };
  const missing = unavailable[key] !== undefined || peak[key] === undefined;
  const baton = (rounds, pick, extra) => (missing ? notMeasured(unavailable[key] ?? 'not run') : side(rounds, pick, extra));
  return [
    figureRow({
      ...base, id: `apply.${key}.peak`, name: `Apply peak, ${rowName}`, unit: 'ops/s', better: 'higher',
      baton: baton(peak[key], (r) => r.opsPerSec),
      baseline: side(peak.baseline, (r) => r.opsPerSec),
      goal: key === 'sync' ? `>= ${SYNC_RATIO_GOAL}x baseline` : null,
      goalCheck: key === 'sync' ? (row) => row.ratio !== null && row.ratio.median >= SYNC_RATIO_GOAL : undefined,
      note: key === 'off' ? `closed loop, ${settings.concurrency} operations in flight over ${settings.sessions} sessions, ${settings.measureMs / 1000} s per round (every mode)` : undefined,
    }),
    figureRow({
      ...base, id: `apply.${key}.peak.p50`, name: `Apply p50 at peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(peak[key], (r) => r.latency?.p50 ?? Number.NaN),
      baseline: side(peak.baseline, (r) => r.latency?.p50 ?? Number.NaN),
    }),
    figureRow({
      ...base, id: `apply.${key}.peak.p99`, name: `Apply p99 at peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(peak[key], (r) => r.latency?.p99 ?? Number.NaN),
      baseline: side(peak.baseline, (r) => r.latency?.p99 ?? Number.NaN),
    }),
    figureRow({
      ...base, id: `apply.${key}.half.p99`, name: `Apply p99 at 50% of peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(half[key], (r) => r.latency?.p99 ?? Number.NaN, { rateOpsPerSec: halfRates[key], p50: missing ? undefined : latencyOf(half[key], 'p50') }),
      baseline: side(half.baseline, (r) => r.latency?.p99 ?? Number.NaN, { rateOpsPerSec: halfRates.baseline, p50: latencyOf(half.baseline, 'p50') }),
      goal: `p99 < ${P99_GOAL_MS} ms`,
      goalCheck: (row) => row.baton.median < P99_GOAL_MS,
      note: missing
        ? undefined
        : `open loop at 50% of each system's own median peak (Baton ${halfRates[key]} ops/s, baseline ${halfRates.baseline} ops/s); ` +
          `latency from the scheduled send time, including the generator's own lag (median p99: Baton ${lagP99(half[key])} ms, baseline ${lagP99(half.baseline)} ms)`,
    }),
  ];
}

/**
 * Sync replication's peak against replication off, measured in the same
 * rounds (the other sync goal): what waiting for the replica costs.
 */
function syncCostRow({ peak, unavailable }) {
  const missing = (key) => unavailable[key] !== undefined || peak[key] === undefined;
  const of = (key) => (missing(key) ? notMeasured(unavailable[key] ?? 'not run') : side(peak[key], (r) => r.opsPerSec));
  return figureRow({
    figure: '1', id: 'apply.sync.vs.off', name: 'Apply peak, sync replication vs off', unit: 'ops/s', better: 'higher',
    baton: of('sync'), baseline: of('off'), baselineName: 'replication off', paired: true,
    goal: `>= ${SYNC_VS_OFF_GOAL}x replication off`,
    goalCheck: (row) => row.ratio !== null && row.ratio.median >= SYNC_VS_OFF_GOAL,
  });
}

/** The figure-1 rows, from runApplyBenchmark's rounds. */
export function applyRows(apply, settings) {
  return [...MODES.flatMap((mode) => [...modeRows(mode, apply, settings), ...lagRows(mode, apply)]), syncCostRow(apply)];
}
