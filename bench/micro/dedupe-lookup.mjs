// Cost of the dedupe-window lookup every operation makes (findDedupe), with
// SDK-shaped operation ids ("<client uuid>:<sequence>") over full windows of
// 32 entries, all misses (the common case: a new operation), beside a
// baseline measured in the same run: a plain scan comparing whole ids.
// Run after `npm run build`: node bench/micro/dedupe-lookup.mjs [lookups=200000]
import { findDedupe } from '../../dist/sessions/session-record.js';

const lookups = Number(process.argv[2] ?? 200_000);
const client = '3f6d2c1e-8a4b-4c2d-9e7f-0a1b2c3d4e5f';
// Built by concatenation and slicing, as received ids are: not internalized.
const id = (n) => `${client}:${n} `.slice(0, -1);
const records = Array.from({ length: 1000 }, (_, s) => ({
  dedupe: Array.from({ length: 32 }, (_, i) => ({ opId: id(100_000 + s * 32 + i), version: i, reply: '' })),
}));
const ids = Array.from({ length: lookups }, (_, k) => id(200_000 + k));

/** The baseline: newest first, whole ids compared. */
function plainScan(record, opId) {
  for (let i = record.dedupe.length - 1; i >= 0; i--) if (record.dedupe[i].opId === opId) return record.dedupe[i];
  return undefined;
}

function nsPerLookup(find) {
  const started = process.hrtime.bigint();
  let hits = 0;
  for (let k = 0; k < ids.length; k++) if (find(records[k % records.length], ids[k]) !== undefined) hits++;
  if (hits !== 0) throw new Error(`expected no hits, got ${hits}`);
  return Number(process.hrtime.bigint() - started) / lookups;
}

for (let round = 1; round <= 3; round++) {
  const baseline = nsPerLookup(plainScan);
  const baton = nsPerLookup(findDedupe);
  console.log(`round ${round}: findDedupe ${baton.toFixed(0)} ns, plain scan ${baseline.toFixed(0)} ns per lookup over a full window: ${(baseline / baton).toFixed(2)}x faster`);
}
