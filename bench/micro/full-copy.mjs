// Cost of sending idle (packed) sessions in a full copy to a replica or a
// handback, per session, as a node does it: the packed bytes given their
// offset and written into batches of 512 as they are (encoded-batch.ts),
// beside a baseline measured in the same run: what the node did before,
// decoding each packed session, building its wire object and serializing
// the batch of objects. Counter sessions padded to a ~200-byte state.
// Run after `npm run build`:
//   node bench/micro/full-copy.mjs [sessions=20000]
import { isDeepStrictEqual } from 'node:util';
import { encodedBatch } from '../../dist/replication/encoded-batch.js';
import { toWire, withOffset } from '../../dist/replication/record-codec.js';
import { loadBatonProto, loadDefinition } from '../../dist/rpc/proto-loader.js';
import { unpack } from '../../dist/sessions/packed-record.js';
import { randomClientId } from '../../dist/client/client-options.js';
import { counterEngine, openPadded } from './counter-engine.mjs';

const sessions = Number(process.argv[2] ?? 20_000);
const BATCH = 512;
const OFFSET = 123_456;

const engine = await counterEngine({ sessions, window: 32 });
// Operation ids shaped like the SDK's, so the packed records are the size a node holds.
const client = randomClientId();
let seq = 0;
openPadded(engine, { count: sessions, prefix: 'copy-', opId: () => `${client}:${++seq}` });
while (!engine.packIdle(0, 10_000));
const held = engine.heldBy('micro');
if (held.length !== sessions || !held.every((h) => Buffer.isBuffer(h))) throw new Error('expected every session packed');

const replicate = loadBatonProto().baton.v1.PeerService.service.Replicate;
const readBack = loadDefinition()['baton.v1.PeerService'].Replicate.responseDeserialize;
const sentAtMs = 1_763_770_000_000;
const asBytes = (slice) => replicate.responseSerialize(encodedBatch(slice.map((p) => withOffset(p, OFFSET)), sentAtMs));
const asObjects = (slice) => replicate.responseSerialize({ batch: { records: slice.map((p) => toWire(unpack(p), { offset: OFFSET })), sentAtMs } });
const first = held.slice(0, BATCH);
if (!isDeepStrictEqual(readBack(asBytes(first)), readBack(asObjects(first)))) throw new Error('the two copies do not read the same');

function usPerSession(send) {
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < held.length; i += BATCH) bytes += send(held.slice(i, i + BATCH)).length;
  if (bytes === 0) throw new Error('nothing sent');
  return Number(process.hrtime.bigint() - started) / held.length / 1000;
}

usPerSession(asBytes);
usPerSession(asObjects);
for (let round = 1; round <= 3; round++) {
  const baton = usPerSession(asBytes);
  const before = usPerSession(asObjects);
  console.log(`round ${round}: ${sessions} packed sessions, ${baton.toFixed(2)} us per session as bytes, ${before.toFixed(2)} us decoded and re-encoded, ${(before / baton).toFixed(1)}x faster`);
}
