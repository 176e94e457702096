// Heap + external per session of one SessionEngine, in-process, no network:
// N counter sessions padded to a ~200-byte state, then a full dedupe window
// on some of them, then all of them packed (kept encoded, as a node keeps
// idle sessions). Run after `npm run build`:
//   node --expose-gc bench/micro/engine-memory.mjs [sessions=50000] [hot=5000]
// Deterministic enough to compare two builds of the record layout; the
// daemon's resident figure is figure 6 of `npm run bench`.
import { randomClientId } from '../../dist/client/client-options.js';
import { counterEngine, json, openPadded } from './counter-engine.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const sessions = Number(process.argv[2] ?? 50_000);
const hot = Math.min(sessions, Number(process.argv[3] ?? 5_000));
const WINDOW = 32;

const engine = await counterEngine({ sessions, window: WINDOW });
const retained = () => {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
// Operation ids shaped like the SDK's: "<client id>:<sequence>".
const client = randomClientId();
let seq = 0;
const opId = () => `${client}:${++seq}`;

const start = retained();
openPadded(engine, { count: sessions, prefix: 'micro-session-', opId });
const opened = retained();
for (let k = 0; k < WINDOW; k++) {
  for (let i = 0; i < hot; i++) engine.apply({ sessionId: `micro-session-${i}`, opId: opId(), op: json({ type: 'add' }) });
}
const filled = retained();
const stateBytes = engine.get('micro-session-0').state.length;
// Every session is idle as of now: one pass packs them all.
while (!engine.packIdle(0, 10_000));
const packed = retained();
console.log(
  JSON.stringify({
    sessions,
    stateBytes,
    heapExternalPerSession: Math.round((opened - start) / sessions),
    // Baseline: the state's own size.
    ratioToState: Number(((opened - start) / sessions / stateBytes).toFixed(2)),
    hotSessions: hot,
    extraPerFullWindow: Math.round((filled - opened) / hot),
    // Over all sessions, hot ones included: per session once packed, and its ratio to the state.
    packedPerSession: Math.round((packed - start) / sessions),
    packedRatioToState: Number(((packed - start) / sessions / stateBytes).toFixed(2)),
    held: engine.stats().sessions,
    packedSessions: engine.stats().sessionsPacked,
    // Of packedPerSession, what the off-heap packed store holds (external memory).
    packedStoreChunkBytesPerSession: Math.round(engine.stats().packedStore.chunkBytes / sessions),
    packedStoreRecordBytesPerSession: Math.round(engine.stats().packedStore.liveBytes / sessions),
  }),
);
