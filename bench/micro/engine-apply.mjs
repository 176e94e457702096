// Cost of one SessionEngine.apply, in-process, no network: counter sessions
// with full dedupe windows, a client's SDK-shaped operation ids spread over
// the sessions in turn (as the apply benchmark sends them), beside a
// baseline measured in the same run: the same counter kept in a plain Map
// of JSON strings (decode the state and the operation, add, encode the
// state and the reply), which is what the handler's own work costs without
// the engine. Run after `npm run build`:
//   node bench/micro/engine-apply.mjs [sessions=1000] [operations=300000]
import { randomClientId } from '../../dist/client/client-options.js';
import { counterEngine } from './counter-engine.mjs';

const sessions = Number(process.argv[2] ?? 1_000);
const operations = Number(process.argv[3] ?? 300_000);
const WINDOW = 32;

const engine = await counterEngine({ sessions, window: WINDOW });
const client = randomClientId();
let seq = 0;
// Built by concatenation and slicing, as received ids are: not internalized.
const opId = () => `${client}:${++seq} `.slice(0, -1);
const op = { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' };
const sessionId = (i) => `micro-session-${i}`;
for (let i = 0; i < sessions; i++) engine.open({ sessionType: 'counter', sessionId: sessionId(i), params: { data: Buffer.from('{}'), contentType: '' }, opId: opId() });

/** The baseline: the counter as JSON strings in a Map, no engine. */
const plain = new Map(Array.from({ length: sessions }, (_, i) => [sessionId(i), '{"value":0,"fired":[]}']));
function plainApply(id, bytes) {
  const state = JSON.parse(plain.get(id));
  const operation = JSON.parse(bytes.toString());
  if (operation.type === 'add') state.value += operation.by ?? 1;
  plain.set(id, JSON.stringify(state));
  return Buffer.from(JSON.stringify({ value: state.value }));
}

function usPerOperation(apply) {
  const ids = Array.from({ length: operations }, opId);
  const started = process.hrtime.bigint();
  for (let k = 0; k < operations; k++) apply(sessionId(k % sessions), ids[k]);
  return Number(process.hrtime.bigint() - started) / operations / 1000;
}

// Warm-up: fills every dedupe window and lets both paths be optimized.
usPerOperation((id, opIdOf) => engine.apply({ sessionId: id, opId: opIdOf, op }));
usPerOperation((id) => plainApply(id, op.data));
for (let round = 1; round <= 3; round++) {
  const baton = usPerOperation((id, opIdOf) => engine.apply({ sessionId: id, opId: opIdOf, op }));
  const baseline = usPerOperation((id) => plainApply(id, op.data));
  console.log(`round ${round}: engine.apply ${baton.toFixed(2)} us, plain Map of JSON ${baseline.toFixed(2)} us per operation: ${(baton / baseline).toFixed(2)}x`);
}
