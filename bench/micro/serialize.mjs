// Serializing the messages written most, as grpc-js does before every
// write: an ApplyBatch of 16 operations (a client's), an ApplyResults of 16
// answers (an apply stream's slice) and a SourceMessage of 16 records (a
// replication batch), with the serializers Baton installs (the apply
// stream's written directly, see src/rpc/apply-codec.ts; others encode the
// plain object as it is) beside a baseline measured in the same run:
// @grpc/proto-loader's own (fromObject, then encode). Each pair is checked
// to read back the same. A last row times what the owner does per replication batch:
// encode each change as the log does when it is logged, then write the
// batch around those bytes. Run after `npm run build`:
//   node bench/micro/serialize.mjs [messages=100000]
import { isDeepStrictEqual } from 'node:util';
import { randomClientId } from '../../dist/client/client-options.js';
import { encodedBatch } from '../../dist/replication/encoded-batch.js';
import { encodeRecord, toWire } from '../../dist/replication/record-codec.js';
import { loadBatonProto, loadDefinition } from '../../dist/rpc/proto-loader.js';
import { compareRounds, usPerCall } from './codec-rounds.mjs';
import { answers, changeOf, operationsOf } from './sample-messages.mjs';

const messages = Number(process.argv[2] ?? 100_000);
const raw = loadDefinition();
const proto = loadBatonProto();

const client = randomClientId();
const operations = operationsOf(client);
const change = (i) => toWire(...changeOf(i, client));
const batch = { batch: { records: Array.from({ length: 16 }, (_, i) => change(i)), sentAtMs: 1_763_770_001_000 } };

// The owner's log encodes each change when it is logged, and a batch is written around those bytes.
const logged = Array.from({ length: 16 }, (_, i) => changeOf(i, client));
const replicate = proto.baton.v1.PeerService.service.Replicate;
const encodeLogged = () => replicate.responseSerialize(encodedBatch(logged.map(([record, how]) => encodeRecord(record, how)), 1_763_770_001_000));
const originalReplicate = raw['baton.v1.PeerService'].Replicate;
if (!isDeepStrictEqual(originalReplicate.responseDeserialize(encodeLogged()), originalReplicate.responseDeserialize(originalReplicate.responseSerialize(batch)))) {
  throw new Error('the encoded batch does not read as the batch of objects');
}

const rawApply = raw['baton.v1.SessionService'].ApplyStream;
const apply = proto.baton.v1.SessionService.service.ApplyStream;
// Name, proto-loader's serializer, the installed one, the message, and proto-loader's reader of it.
const CASES = [
  ['ApplyBatch, 16 operations', rawApply.requestSerialize, apply.requestSerialize, operations, rawApply.requestDeserialize],
  ['ApplyResults, 16 answers', rawApply.responseSerialize, apply.responseSerialize, answers, rawApply.responseDeserialize],
  ['SourceMessage, 16 records', originalReplicate.responseSerialize, replicate.responseSerialize, batch, originalReplicate.responseDeserialize],
];

for (const [name, original, direct, message, read] of CASES) {
  if (!isDeepStrictEqual(read(original(message)), read(direct(message)))) throw new Error(`${name}: the two serializers disagree`);
}
compareRounds(
  CASES.map(([name, original, direct, message]) => [name, original, direct, message]),
  {
    count: messages,
    baseline: 'fromObject + encode',
    extra: () => {
      const objects = usPerCall(originalReplicate.responseSerialize, batch, messages);
      const log = usPerCall(encodeLogged, batch, messages);
      return [`SourceMessage, 16 records encoded as logged, then spliced: ${log.toFixed(1)} us, against fromObject + encode of the objects ${objects.toFixed(1)} us, ${(objects / log).toFixed(2)}x faster`];
    },
  },
);
