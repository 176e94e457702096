// Reading the messages a node and its clients receive most, as grpc-js does
// on every message: an ApplyBatch of 16 operations (on a node), an
// ApplyResults of 16 answers (on a client) and a SourceMessage of 16
// changes (a replication batch, on the replica), with the deserializers
// Baton installs (read straight from the bytes) beside a baseline measured
// in the same run: @grpc/proto-loader's own (decode, then toObject). For
// the batch that is less than the replica used to pay: it then converted
// each wire record into a stored one. Run after `npm run build`:
//   node bench/micro/deserialize.mjs [messages=100000]
import { randomClientId } from '../../dist/client/client-options.js';
import { encodedBatch } from '../../dist/replication/encoded-batch.js';
import { encodeRecord } from '../../dist/replication/record-codec.js';
import { loadBatonProto, loadDefinition } from '../../dist/rpc/proto-loader.js';
import { compareRounds } from './codec-rounds.mjs';
import { answers, changeOf, operationsOf } from './sample-messages.mjs';

const messages = Number(process.argv[2] ?? 100_000);
const raw = loadDefinition();
const proto = loadBatonProto();
const client = randomClientId();

const change = (i) => encodeRecord(...changeOf(i, client));
const replicate = proto.baton.v1.PeerService.service.Replicate;
const batchBytes = replicate.responseSerialize(encodedBatch(Array.from({ length: 16 }, (_, i) => change(i)), 1_763_770_001_000));

const rawApply = raw['baton.v1.SessionService'].ApplyStream;
const apply = proto.baton.v1.SessionService.service.ApplyStream;
const operations = rawApply.requestSerialize(operationsOf(client));
const answerBytes = rawApply.responseSerialize(answers);

const CASES = [
  ['ApplyBatch, 16 operations', rawApply.requestDeserialize, apply.requestDeserialize, operations],
  ['ApplyResults, 16 answers', rawApply.responseDeserialize, apply.responseDeserialize, answerBytes],
  ['SourceMessage, 16 changes', raw['baton.v1.PeerService'].Replicate.responseDeserialize, replicate.responseDeserialize, batchBytes],
];

compareRounds(CASES, { count: messages, baseline: 'decode + toObject' });
