// Figure 1: apply throughput and latency through the SDK's streaming path
// (BatonClient.apply, default transport): Baton with replication off (one
// daemon), sync and async (a pair), beside the Redis baseline. Every system
// serves the same sessions, and their rounds are interleaved in a rotating
// order so that the machine's noise falls on all of them alike.
//
// A closed loop's throughput is at most (operations in flight) / (round
// trip), so at a fixed number in flight a system with a longer round trip
// (a pair in sync mode waits for its replica) reads lower even with CPU to
// spare. A peak is where a system saturates: a sweep runs every system at
// every level of settings.concurrency, and its peak rounds run at the most
// in flight that read within noise of its best (plateauLevel).
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
/** The half-peak rounds' key for the sync pair run at the baseline's half-peak rate. */
const EQUAL_RATE_KEY = 'sync.atBaselineRate';

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
      const result = await measure(system, round);
      results[system.key].push(result);
      progress(`${what(round)} ${system.label}: ${describe(result)}`);
    }
  }
  return results;
}

/**
 * A sweep pass within this share of the best one is taken as a tie: one
 * 2 s pass on this kind of machine moves by a fifth between runs.
 */
const PLATEAU_TOLERANCE = 0.1;

/**
 * The level a system's peak rounds run at: the most operations in flight
 * whose pass read within PLATEAU_TOLERANCE of the best. Past saturation
 * more in flight adds only queueing, so ties are the plateau, and the top
 * of a tie is surely on it; below it a closed loop is bound by its round
 * trip (a sync pair's at 256 read 1.44x the baseline in peak rounds where
 * 1024 read 2.02x: docs/benchmarks.md, "How the peak's level is chosen").
 */
function plateauLevel(passes) {
  const best = Math.max(...passes.map((p) => p.opsPerSec));
  return Math.max(...passes.filter((p) => p.opsPerSec >= (1 - PLATEAU_TOLERANCE) * best).map((p) => p.concurrency));
}

/**
 * One closed-loop pass of every system at every level of `levels`;
 * resolves with { results: { key: [{ concurrency, opsPerSec, p50, p99 }] },
 * chosen: { key: the level of its highest throughput } }.
 */
async function sweep(systems, levels, durationMs, progress) {
  const passes = await interleaved(
    systems,
    levels.length,
    (s, i) => s.closedLoop(durationMs, levels[i]),
    progress,
    (i) => `sweep ${levels[i]} in flight`,
  );
  const results = {};
  const chosen = {};
  for (const [key, rounds] of Object.entries(passes)) {
    results[key] = rounds.map((r, i) => ({ concurrency: levels[i], opsPerSec: r.opsPerSec, p50: r.latency?.p50 ?? null, p99: r.latency?.p99 ?? null }));
    chosen[key] = plateauLevel(results[key]);
  }
  return { results, chosen };
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
    const levels = settings.concurrency;
    for (const system of systems) {
      progress(`warming up ${system.label} for ${settings.warmupMs} ms`);
      await system.closedLoop(settings.warmupMs, levels[0]);
    }
    const swept = levels.length > 1 ? await sweep(systems, levels, settings.sweepMs, progress) : undefined;
    const chosen = swept?.chosen ?? Object.fromEntries(systems.map((s) => [s.key, levels[0]]));
    if (swept !== undefined) progress(`peak rounds at ${systems.map((s) => `${s.label} ${chosen[s.key]}`).join(', ')} in flight`);
    // In the replicated modes, the owner's replication lag is sampled during each peak round.
    const peak = await interleaved(
      systems,
      settings.rounds,
      async (s) => {
        const sampler = s.ownerControl === undefined ? undefined : new LagSampler(s.ownerControl);
        const result = await s.closedLoop(settings.measureMs, chosen[s.key], settings.roundWarmupMs);
        return sampler === undefined ? result : { ...result, replicationLag: sampler.stop() };
      },
      progress,
      (round) => `peak round ${round + 1}/${settings.rounds}`,
    );
    const halfRates = Object.fromEntries(
      systems.map((s) => [s.key, Math.max(1, Math.round(spread(peak[s.key].map((r) => r.opsPerSec)).median / 2))]),
    );
    // The sync pair also runs at the baseline's half-peak rate, in the same
    // rotation: a latency ratio at equal load beside the one at equal share
    // of each system's own peak.
    const syncPair = systems.find((s) => s.key === 'sync');
    halfRates[EQUAL_RATE_KEY] = halfRates.baseline;
    const atBaselineRate =
      syncPair === undefined ? [] : [{ key: EQUAL_RATE_KEY, label: `${syncPair.label} at the baseline's rate`, openLoop: (...args) => syncPair.openLoop(...args) }];
    const half = await interleaved(
      [...systems, ...atBaselineRate],
      settings.rounds,
      (s) => s.openLoop(halfRates[s.key], settings.measureMs, settings.roundWarmupMs),
      progress,
      (round) => `half-peak round ${round + 1}/${settings.rounds}`,
    );
    return { peak, half, halfRates, concurrency: chosen, sweep: swept?.results, unavailable };
  } finally {
    for (const system of systems) await system.stop();
    await Promise.all(children.map((child) => registry.stop(child)));
  }
}

const latencyOf = (rounds, key) => rounds.map((r) => r.latency?.[key] ?? Number.NaN);
const p99Of = (r) => r.latency?.p99 ?? Number.NaN;
/** What an open-loop side keeps beside its p99s: the rate it ran at and its rounds' p50s. */
const openLoopExtra = (rounds, rate) => ({ rateOpsPerSec: rate, p50: latencyOf(rounds, 'p50') });
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
    : `the owner's reported lag, sampled every 100 ms during each peak round and its warm-up (${peak[key].map((r) => r.replicationLag.samples).join('/')} samples); median of the rounds' medians, and the largest seen: ${Math.max(...peak[key].map((r) => r.replicationLag.records.max))} records, ${Math.max(...peak[key].map((r) => r.replicationLag.ms.max))} ms`;
  return [
    figureRow({ figure: '1', id: `apply.${key}.lag.records`, name: `Replication lag at peak, ${rowName}`, unit: 'records', better: 'lower', baton: of('records', (l) => l.records.median), note }),
    figureRow({ figure: '1', id: `apply.${key}.lag.ms`, name: `Replication lag age at peak, ${rowName}`, unit: 'ms', better: 'lower', baton: of('ms', (l) => l.ms.median) }),
  ];
}

/** How a measured round starts, for the notes: a run before 2026-12-05 06:40 UTC measured from a standing start. */
const warmNote = (settings) =>
  settings.roundWarmupMs ? `, each round after ${settings.roundWarmupMs / 1000} s of the same load that is not measured` : ', each round from a standing start';

/** The levels a run swept: a run before 2026-12-05 kept one number, where every system ran. */
const levelsOf = (settings) => [settings.concurrency].flat();

/** Where a system's peak rounds ran, for the peak rows' notes. */
function peakNote(key, apply, settings) {
  const levels = levelsOf(settings);
  const chosen = (system) => apply.concurrency?.[system] ?? levels[0];
  const at = `Baton at ${chosen(key)} operations in flight, baseline at ${chosen('baseline')}`;
  if (key !== 'off') return `closed loop; ${at}`;
  const how =
    levels.length > 1
      ? `each system at the most operations in flight (of ${levels.join(', ')}) whose pass in a sweep of one ${settings.sweepMs / 1000} s pass per level read within ${PLATEAU_TOLERANCE * 100}% of its best (see the sync vs off row)`
      : `${levels[0]} operations in flight`;
  return `closed loop over ${settings.sessions} sessions, ${settings.measureMs / 1000} s per round${warmNote(settings)}, ${how}; ${at}`;
}

/** The sweep's figures, for the sync vs off row's note. */
function sweepNote(apply, settings) {
  if (apply.sweep === undefined) return undefined;
  const levels = levelsOf(settings);
  const named = { ...Object.fromEntries(MODES.map((m) => [m.key, m.rowName])), baseline: 'baseline' };
  const lines = Object.entries(apply.sweep).map(([key, results]) => `${named[key] ?? key} ${results.map((r) => Math.round(r.opsPerSec).toLocaleString('en-US')).join(' / ')}`);
  return `sweep, ops/s at ${levels.join(' / ')} in flight (one pass each): ${lines.join('; ')}`;
}

/** The four rows of one Baton mode. */
function modeRows({ key, rowName }, apply, settings) {
  const { peak, half, halfRates, unavailable } = apply;
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
      note: missing ? undefined : peakNote(key, apply, settings),
    }),
    figureRow({
      ...base, id: `apply.${key}.peak.p50`, name: `Apply p50 at peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(peak[key], (r) => r.latency?.p50 ?? Number.NaN),
      baseline: side(peak.baseline, (r) => r.latency?.p50 ?? Number.NaN),
    }),
    figureRow({
      ...base, id: `apply.${key}.peak.p99`, name: `Apply p99 at peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(peak[key], p99Of),
      baseline: side(peak.baseline, p99Of),
    }),
    figureRow({
      ...base, id: `apply.${key}.half.p99`, name: `Apply p99 at 50% of peak, ${rowName}`, unit: 'ms', better: 'lower',
      baton: baton(half[key], p99Of, missing ? undefined : openLoopExtra(half[key], halfRates[key])),
      baseline: side(half.baseline, p99Of, openLoopExtra(half.baseline, halfRates.baseline)),
      goal: `p99 < ${P99_GOAL_MS} ms`,
      goalCheck: (row) => row.baton.median < P99_GOAL_MS,
      note: missing
        ? undefined
        : `open loop at 50% of each system's own median peak (Baton ${halfRates[key]} ops/s, baseline ${halfRates.baseline} ops/s)${warmNote(settings)}; ` +
          `latency from the scheduled send time, including the generator's own lag (median p99: Baton ${lagP99(half[key])} ms, baseline ${lagP99(half.baseline)} ms)`,
    }),
  ];
}

/**
 * The sync pair's p99 at the baseline's half-peak rate, beside the
 * baseline's own: the two at the same load. The half-peak rows compare
 * each at half its own peak, so Baton there carries two to three times the
 * baseline's rate. No goal: the issue's is the row at Baton's own half peak.
 */
function equalRateRow(apply, settings) {
  const { half, halfRates, unavailable } = apply;
  const rounds = half[EQUAL_RATE_KEY];
  const baton =
    rounds === undefined
      ? notMeasured(unavailable.sync ?? 'not run')
      : side(rounds, p99Of, openLoopExtra(rounds, halfRates.baseline));
  const note =
    rounds === undefined
      ? undefined
      : `open loop, the sync pair and the baseline both at ${halfRates.baseline} ops/s (half the baseline's median peak)${warmNote(settings)}; ` +
        `median p50: Baton ${spread(latencyOf(rounds, 'p50')).median.toFixed(2)} ms, baseline ${spread(latencyOf(half.baseline, 'p50')).median.toFixed(2)} ms; ` +
        `generator's own lag, median p99: Baton ${lagP99(rounds)} ms, baseline ${lagP99(half.baseline)} ms`;
  return figureRow({
    figure: '1', id: 'apply.sync.baselineRate.p99', name: "Apply p99 at baseline's half peak, sync", unit: 'ms', better: 'lower',
    paired: true, baselineName: BASELINE_NAME, baton, note,
    baseline: side(half.baseline, p99Of, openLoopExtra(half.baseline, halfRates.baseline)),
  });
}

/**
 * Sync replication's peak against replication off, measured in the same
 * rounds (the issue's other sync goal): what waiting for the replica costs.
 */
function syncCostRow(apply, settings) {
  const { peak, unavailable } = apply;
  const missing = (key) => unavailable[key] !== undefined || peak[key] === undefined;
  const of = (key) => (missing(key) ? notMeasured(unavailable[key] ?? 'not run') : side(peak[key], (r) => r.opsPerSec));
  return figureRow({
    figure: '1', id: 'apply.sync.vs.off', name: 'Apply peak, sync replication vs off', unit: 'ops/s', better: 'higher',
    baton: of('sync'), baseline: of('off'), baselineName: 'replication off', paired: true,
    goal: `>= ${SYNC_VS_OFF_GOAL}x replication off`,
    goalCheck: (row) => row.ratio !== null && row.ratio.median >= SYNC_VS_OFF_GOAL,
    note: sweepNote(apply, settings),
  });
}

/** The figure-1 rows, from runApplyBenchmark's rounds. */
export function applyRows(apply, settings) {
  return [
    ...MODES.flatMap((mode) => [...modeRows(mode, apply, settings), ...(mode.key === 'sync' ? [equalRateRow(apply, settings)] : []), ...lagRows(mode, apply)]),
    syncCostRow(apply, settings),
  ];
}
