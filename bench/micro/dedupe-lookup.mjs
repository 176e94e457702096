// Cost of the dedupe-window lookup every operation makes (findDedupe), with
// SDK-shaped operation ids ("<client id>:<sequence>") over full windows of
// 32 entries, all misses (the common case: a new operation), beside a
// baseline measured in the same run: a plain scan comparing whole ids.
// Two shapes of window: "consecutive" (one session getting a client's
// operations one after another) and "strided" (a client spreading its
// operations over 1000 sessions in turn, as the apply benchmark does: the
// ids in one window are 1000 apart and end in the same digits).
// The windows are built in one go, so their entries lie close together in
// the heap, kinder to the cache than a node's, built one operation at a time.
// Run after `npm run build`: node bench/micro/dedupe-lookup.mjs [lookups=200000]
import { randomClientId } from '../../dist/client/client-options.js';
import { dedupeEntry, findDedupe } from '../../dist/sessions/session-record.js';

const lookups = Number(process.argv[2] ?? 200_000);
const SESSIONS = 1000;
const WINDOW = 32;
const client = randomClientId();
// Built by concatenation and slicing, as received ids are: not internalized.
const id = (n) => `${client}:${n} `.slice(0, -1);

/** Windows of `SESSIONS` sessions and the ids looked up in them (session = k % SESSIONS). */
const SHAPES = {
  consecutive: {
    records: Array.from({ length: SESSIONS }, (_, s) => ({
      dedupe: Array.from({ length: WINDOW }, (_, i) => dedupeEntry(id(100_000 + s * WINDOW + i), i, '')),
    })),
    ids: Array.from({ length: lookups }, (_, k) => id(200_000 + k)),
  },
  strided: {
    records: Array.from({ length: SESSIONS }, (_, s) => ({
      dedupe: Array.from({ length: WINDOW }, (_, i) => dedupeEntry(id(100_000 + i * SESSIONS + s), i, '')),
    })),
    // The next operation of each session: again a multiple of SESSIONS further.
    ids: Array.from({ length: lookups }, (_, k) => id(100_000 + (WINDOW + Math.floor(k / SESSIONS)) * SESSIONS + (k % SESSIONS))),
  },
};

/** The baseline: newest first, whole ids compared. */
function plainScan(record, opId) {
  for (let i = record.dedupe.length - 1; i >= 0; i--) if (record.dedupe[i].opId === opId) return record.dedupe[i];
  return undefined;
}

function nsPerLookup(find, { records, ids }) {
  const started = process.hrtime.bigint();
  let hits = 0;
  for (let k = 0; k < ids.length; k++) if (find(records[k % records.length], ids[k]) !== undefined) hits++;
  if (hits !== 0) throw new Error(`expected no hits, got ${hits}`);
  return Number(process.hrtime.bigint() - started) / lookups;
}

for (let round = 1; round <= 3; round++) {
  const parts = Object.entries(SHAPES).map(([name, shape]) => {
    const baseline = nsPerLookup(plainScan, shape);
    const baton = nsPerLookup(findDedupe, shape);
    return `${name}: findDedupe ${baton.toFixed(0)} ns, plain scan ${baseline.toFixed(0)} ns, ${(baseline / baton).toFixed(2)}x faster`;
  });
  console.log(`round ${round} (per lookup over a full window): ${parts.join('; ')}`);
}
