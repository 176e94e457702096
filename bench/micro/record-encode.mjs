// Cost of encoding one snapshot record (what a snapshot flush does for every
// changed session), beside a baseline measured in the same run: protobufjs
// encoding the same record's wire form (fromObject, then encode), as
// @grpc/proto-loader does. A 200-byte state and a full dedupe window of 32
// SDK-shaped operation ids. Run after `npm run build`:
//   node bench/micro/record-encode.mjs [records=20000]
import { randomClientId } from '../../dist/client/client-options.js';
import { encodeRecord, toWire } from '../../dist/replication/record-codec.js';
import { loadProtobufRoot } from '../../dist/rpc/proto-loader.js';

const count = Number(process.argv[2] ?? 20_000);
const type = loadProtobufRoot().lookupType('baton.v1.SessionRecord');
const protobufjsEncode = (record) => Buffer.from(type.encode(type.fromObject(toWire(record))).finish());

const client = randomClientId();
const now = Date.now();
const record = {
  sessionId: 'micro-session-1', sessionType: 'counter', version: 40, schemaVersion: 1, owner: 'micro-a', epoch: 1,
  state: `{"value":40,"fired":[],"pad":"${'x'.repeat(170)}"}`, timers: [],
  dedupe: Array.from({ length: 32 }, (_, i) => ({ opId: `${client}:${1000 + i}`, version: 9 + i, reply: `{"value":${9 + i}}` })),
  createdAtMs: now, updatedAtMs: now,
};

function usPerRecord(encode) {
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) bytes += encode(record).length;
  return { us: Number(process.hrtime.bigint() - started) / count / 1000, bytes: bytes / count };
}

for (let round = 1; round <= 3; round++) {
  const baseline = usPerRecord(protobufjsEncode);
  const baton = usPerRecord(encodeRecord);
  console.log(
    `round ${round}: encodeRecord ${baton.us.toFixed(1)} us (${baton.bytes} B), protobufjs ${baseline.us.toFixed(1)} us (${baseline.bytes} B) per record: ${(baseline.us / baton.us).toFixed(2)}x faster`,
  );
}
