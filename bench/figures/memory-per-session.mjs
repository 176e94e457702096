// Figure 6: memory a daemon holds per session, beside the state's own size.
//
// Two passes, each on a fresh daemon (one node, no peer, snapshots to the
// run's Redis as deployed). The daemon first serves 1000 sessions under
// load, so that its gRPC buffers are grown, then opens and closes one
// step's worth of sessions, so that its young generation is. Then N
// counter sessions are opened in steps, each padded to a known state size;
// after each step, once the snapshot writer is idle, the daemon collects
// its garbage and the harness reads VmRSS. Each step is one round. The idle
// pass reads each step once the daemon has packed every session (kept it
// encoded, as it does with sessions left unchanged); the active pass's
// daemon never packs, and shows sessions as they are while in use. The replication backlog, which a
// node keeps even without a peer, is set to its minimum: it is a per-node
// cost bounded by --backlog-bytes, and while it filled it would be counted
// as the new sessions' memory. The daemon's last snapshot is left in Redis
// for figure 4 (the active pass's).
import { join } from 'node:path';
import { startBatonDaemon } from '../harness/baton-daemon.mjs';
import { redisArgs } from '../harness/baton-pair.mjs';
import { IpcChild } from '../harness/ipc-child.mjs';
import { nodeStatus } from '../harness/node-status.mjs';
import { GC_ON_SIGNAL_PATH, LOAD_WORKER_PATH } from '../harness/paths.mjs';
import { waitUntil } from '../harness/wait-until.mjs';
import { MemoryProbe } from '../memory/memory-probe.mjs';
import { figureRow, measured, notMeasured } from '../report/figure-row.mjs';
import { openPaddedSessions, UNPADDED_STATE_BYTES } from './padded-sessions.mjs';

const OVERHEAD_GOAL_BYTES = 300;
const WARM_SESSIONS = 1_000;
const CONCURRENCY = 128;
/** Operations in flight while the warm-up load grows the daemon's gRPC buffers. */
const WARM_CONCURRENCY = 64;
const TIMEOUT_MS = 300_000;
/** The smallest --backlog-bytes the daemon accepts. */
const MIN_BACKLOG_BYTES = 1024;
const SNAPSHOT_IDLE_TIMEOUT_MS = 60_000;
/**
 * --pack-idle-ms of the idle pass: short, so that the pass does not wait
 * the default 10 s per step; what a packed session costs does not depend on it.
 */
const IDLE_PACK_MS = 1_000;
export const MEMORY_CLUSTER = 'bench-mem';
export const MEMORY_NODE_ID = 'bench-mem-a';

/**
 * Waits until every change is in Redis (nothing dirty, and the snapshot's
 * watermark has reached the log's offset, so no flush is in flight), so
 * that no write in progress is counted as session memory.
 */
async function snapshotIdle(controlAddress) {
  return waitUntil(async () => {
    const { snapshot, replication } = await nodeStatus(controlAddress);
    if (!snapshot.redisConnected || snapshot.lastError !== '') throw new Error(`snapshots failing: ${snapshot.lastError || 'Redis not connected'}`);
    return snapshot.dirtySessions === 0 && snapshot.watermarkOffset === replication.offset ? snapshot : undefined;
  }, SNAPSHOT_IDLE_TIMEOUT_MS, 'snapshot writer idle (nothing dirty, watermark at the log offset)');
}

/** Bytes per session between two probes: RSS, V8 heap + external, and the ArrayBuffer part of external. */
const perSession = (after, before, count) => ({
  rss: (after.rss - before.rss) / count,
  heap: (after.heapUsed + after.external - before.heapUsed - before.external) / count,
  arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / count,
});

/**
 * Waits until every session the daemon holds is packed (kept encoded, see
 * src/sessions/packed-record.ts), so that the step counts idle sessions.
 */
async function allPacked(controlAddress) {
  return waitUntil(async () => {
    const status = await nodeStatus(controlAddress);
    return Number(status.sessionsPacked) === Number(status.sessions) ? status : undefined;
  }, SNAPSHOT_IDLE_TIMEOUT_MS, 'every session packed');
}

/**
 * One daemon, sessions opened in steps, memory read after each. `idle`:
 * the daemon packs sessions left unchanged for IDLE_PACK_MS and each step
 * is read once all are packed; otherwise it never packs and the step is
 * read right away (sessions as they are just after a change). The active
 * pass also fills the dedupe window of `hotSessions` and leaves its
 * snapshot in Redis for figure 4.
 */
async function memoryPass({ registry, redis, tempDir, settings, progress }, idle) {
  const { memorySessions, rounds: steps, stateBytes, hotSessions } = settings;
  const stepSize = Math.floor(memorySessions / steps);
  const label = idle ? 'memory (idle)' : 'memory (active)';
  const cluster = idle ? `${MEMORY_CLUSTER}-idle` : MEMORY_CLUSTER;
  const file = join(tempDir, `daemon-memory-${idle ? 'idle' : 'active'}.json`);
  const daemon = await startBatonDaemon(registry, {
    nodeId: MEMORY_NODE_ID,
    nodeArgs: ['--expose-gc', '--import', GC_ON_SIGNAL_PATH],
    env: { BATON_BENCH_MEMORY_FILE: file },
    extraArgs: [
      ...redisArgs(redis.port, cluster),
      '--max-sessions', String(memorySessions + WARM_SESSIONS + 1_000),
      '--backlog-bytes', String(MIN_BACKLOG_BYTES),
      '--pack-idle-ms', String(idle ? IDLE_PACK_MS : 0),
    ],
  });
  const worker = IpcChild.fork(registry, `load worker (${label})`, LOAD_WORKER_PATH);
  try {
    const probe = new MemoryProbe(daemon.pid, file);
    const measure = async () => {
      await snapshotIdle(daemon.controlAddress);
      if (idle) await allPacked(daemon.controlAddress);
      return probe.measure();
    };
    await worker.request('connect', { addresses: [daemon.sessionAddress] }, TIMEOUT_MS);
    progress(`${label}: warming up a fresh daemon (${WARM_SESSIONS} sessions, ${settings.warmupMs} ms of load)`);
    await openPaddedSessions(worker, 'warm-', WARM_SESSIONS, stateBytes);
    const op = { type: 'pad', bytes: stateBytes - UNPADDED_STATE_BYTES };
    await worker.request('closedLoop', { prefix: 'warm-', count: WARM_SESSIONS, concurrency: WARM_CONCURRENCY, durationMs: settings.warmupMs, op }, TIMEOUT_MS);
    // V8 grows its young generation only while much of what is allocated
    // survives, as when sessions are opened, not under the load above. One
    // step's worth of sessions, opened then closed, grows it to the size
    // it keeps (a fixed cost of the process, up to twice
    // --max-semi-space-size), so that no step counts it as session memory.
    progress(`${label}: growing the young generation (${stepSize} sessions opened and closed)`);
    await openPaddedSessions(worker, 'grow-', stepSize, stateBytes);
    const closed = await worker.request('closeEach', { prefix: 'grow-', count: stepSize, concurrency: CONCURRENCY }, TIMEOUT_MS);
    if (closed.errors > 0) throw new Error(`closing grow-*: ${closed.errors} of ${stepSize} failed: ${closed.firstError}`);
    const rounds = [];
    const start = await measure();
    let before = start;
    for (let step = 0; step < steps; step++) {
      const rates = await openPaddedSessions(worker, `m${step}-`, stepSize, stateBytes);
      const after = await measure();
      rounds.push({ ...perSession(after, before, stepSize), ...rates });
      progress(`${label} step ${step + 1}/${steps}: +${stepSize} sessions, ${Math.round(rounds.at(-1).rss)} B RSS and ${Math.round(rounds.at(-1).heap)} B heap+external per session`);
      before = after;
    }
    // What the node really holds, read back through the SDK (which unpacks that one session).
    const heldStateBytes = await worker.request('stateBytes', { sessionId: 'm0-0' }, TIMEOUT_MS);
    if (heldStateBytes !== stateBytes) throw new Error(`a padded session holds ${heldStateBytes} B of state, expected ${stateBytes}`);
    const status = await nodeStatus(daemon.controlAddress);
    const sessions = WARM_SESSIONS + stepSize * steps;
    if (status.sessions !== sessions) throw new Error(`daemon holds ${status.sessions} sessions, expected ${sessions}`);
    const pass = {
      stepSize, steps: rounds, stateBytes: heldStateBytes,
      total: { sessions: stepSize * steps, ...perSession(before, start, stepSize * steps) },
      rssBytes: { start: start.rss, end: before.rss },
    };
    if (idle) return pass;
    const window = status.limits.dedupeWindow;
    progress(`${label}: filling the dedupe window (${window} operations) of ${hotSessions} sessions`);
    for (let i = 0; i < window; i++) {
      const outcome = await worker.request('applyEach', { prefix: 'm0-', count: hotSessions, concurrency: CONCURRENCY, op: { type: 'add' } }, TIMEOUT_MS);
      if (outcome.errors > 0) throw new Error(`filling dedupe windows: ${outcome.errors} failed: ${outcome.firstError}`);
    }
    const afterHot = await measure();
    const { recordsWritten } = await snapshotIdle(daemon.controlAddress);
    return {
      ...pass,
      hot: { sessions: hotSessions, dedupeWindow: window, ...perSession(afterHot, before, hotSessions) },
      rssBytes: { ...pass.rssBytes, afterHot: afterHot.rss },
      snapshot: { cluster: MEMORY_CLUSTER, nodeId: MEMORY_NODE_ID, sessions, hotSessions, stateBytes: heldStateBytes, recordsWritten },
    };
  } finally {
    await worker.request('shutdown', {}, 5_000).catch(() => {});
    await registry.stop(worker.child);
    // SIGTERM: the daemon writes its last snapshot before it exits.
    await registry.stop(daemon.child);
  }
}

/** Measures the memory figures: an active pass, then an idle one; returns their raw steps and what the snapshot in Redis holds. */
export async function runMemoryBenchmark(context) {
  const active = await memoryPass(context, false);
  const idle = await memoryPass(context, true);
  return { ...active, idle, snapshot: active.snapshot };
}

/**
 * A pass's resident bytes per session: over all its sessions (the RSS
 * read after the last step less the one before the first, over every
 * session added), not the median of the steps. RSS grows in lumps (the
 * heap's pages, the allocator's arenas) that land in one step or another:
 * the steps of one run read from 71 to 739 bytes, and their median moved
 * from 320 to 555 between two runs an hour apart, while the figure over
 * all sessions read 385 and 437. The steps stay in the note.
 */
const rssOverAll = (pass) => measured([pass.total.rss]);
const stepsNote = (pass) => `the ${pass.steps.length} steps read ${pass.steps.map((s) => Math.round(s.rss)).join(', ')} B each`;

export function memoryRows(memory) {
  const { steps, stateBytes, hot, idle } = memory;
  const stateSide = measured(steps.map(() => stateBytes));
  const common = { figure: '6', unit: 'bytes', better: 'lower', baselineName: "the state's own size" };
  const setup = (pass) =>
    `${pass.total.sessions} sessions in ${pass.steps.length} steps of ${pass.stepSize}, ${stateBytes} B state each ` +
    `(over all of them: ${Math.round(pass.total.rss)} B RSS, ${Math.round(pass.total.heap)} B heap+external per session); ` +
    `replication backlog at its minimum (--backlog-bytes ${MIN_BACKLOG_BYTES})`;
  return [
    figureRow({
      ...common, id: 'memory.rss.per.session', name: 'Resident bytes per idle session',
      baton: rssOverAll(idle), baseline: measured([stateBytes]),
      goal: `< ${stateBytes + OVERHEAD_GOAL_BYTES} (state + ${OVERHEAD_GOAL_BYTES})`,
      goalCheck: (row) => row.baton.median < stateBytes + OVERHEAD_GOAL_BYTES,
      note:
        `delta VmRSS after a full GC over all sessions added (the RSS after the last step less the one before the first), read once every session is packed ` +
        `(kept encoded: unchanged for --pack-idle-ms, ${IDLE_PACK_MS} ms here, default 10 s); ${stepsNote(idle)}; ` +
        setup(idle),
    }),
    figureRow({
      ...common, id: 'memory.rss.overhead', name: 'Overhead per idle session beyond state', baselineName: null,
      baton: measured([idle.total.rss - stateBytes]),
      goal: `< ${OVERHEAD_GOAL_BYTES}`,
      goalCheck: (row) => row.baton.median < OVERHEAD_GOAL_BYTES,
    }),
    figureRow({
      ...common, id: 'memory.heap.per.session', name: 'V8 heap+external per idle session',
      baton: measured(idle.steps.map((s) => s.heap)), baseline: stateSide, paired: true,
      note: 'process.memoryUsage() after a full GC: what the objects retain, without allocator slack',
    }),
    figureRow({
      ...common, id: 'memory.rss.per.active.session', name: 'Resident bytes per session just changed',
      baton: rssOverAll(memory), baseline: measured([stateBytes]),
      note: `an extra figure: the same steps on a daemon that never packs (--pack-idle-ms 0), read right after them: sessions as they are while in use; ${stepsNote(memory)}; ${setup(memory)}`,
    }),
    figureRow({
      ...common, id: 'memory.heap.per.active.session', name: 'V8 heap+external per session just changed',
      baton: measured(steps.map((s) => s.heap)), baseline: stateSide, paired: true,
    }),
    figureRow({
      ...common, id: 'memory.dedupe.window', name: 'Extra heap bytes/session, full dedupe window', baselineName: null,
      // Heap + external, not RSS: over a few thousand sessions the RSS delta
      // is within the allocator's noise (a quick run once read -18 702 B).
      baton: measured([hot.heap]),
      note:
        `an extra figure (one round): delta V8 heap+external after a full GC, after ${hot.dedupeWindow} more operations on each of ${hot.sessions} sessions ` +
        `(of which ArrayBuffers ${Math.round(hot.arrayBuffers)} B); delta VmRSS ${Math.round(hot.rss)} B`,
    }),
    figureRow({
      ...common, id: 'memory.reload.growth', name: 'Growth across 500 hot reloads', baselineName: null,
      baton: notMeasured('hot reload (baton reload) not implemented yet'),
      goal: 'no growth',
    }),
  ];
}
