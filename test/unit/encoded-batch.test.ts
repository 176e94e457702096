import { describe, expect, it } from 'vitest';
import { encodedBatch, encodedRecords, SOURCE_BATCH_KEY, spliceEncoded } from '../../src/replication/encoded-batch.js';
import { encodeRecord, toWire } from '../../src/replication/record-codec.js';
import type { WireOptions } from '../../src/replication/record-codec.js';
import { loadBatonProto, loadDefinition } from '../../src/rpc/proto-loader.js';
import { dedupeEntry } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

const installed = (loadBatonProto() as unknown as { baton: { v1: { PeerService: { service: { Replicate: { responseSerialize: Serialize } } } } } }).baton.v1.PeerService
  .service.Replicate.responseSerialize;
const original = loadDefinition()['baton.v1.PeerService'] as unknown as { Replicate: { responseSerialize: Serialize; responseDeserialize: Deserialize } };
/** What the replica reads: proto-loader's own deserializer. */
const read = (bytes: Buffer): unknown => original.Replicate.responseDeserialize(bytes);

const change = (i: number): { record: SessionRecord; how: WireOptions } => ({
  record: {
    sessionId: `s-${i}`,
    sessionType: 'counter',
    version: 10 + i,
    schemaVersion: 1,
    owner: 'a',
    epoch: 3,
    state: '',
    timers: i % 2 === 0 ? [] : [{ timerId: 't', deadlineMs: 1_763_770_000_000 + i, payload: Buffer.from('{}') }],
    dedupe: [dedupeEntry('c:0', 10, '')],
    createdAtMs: 1_763_770_000_000,
    updatedAtMs: 1_763_770_000_000 + i,
  },
  how: {
    stateBytes: Buffer.from(`{"value":${i}}`),
    dedupeDelta: [{ opId: `c:${i}`, version: 10 + i, reply: Buffer.from(`{"value":${i}}`) }],
    deleted: i === 3,
    offset: 500 + i,
  },
});

describe('batches of encoded records', () => {
  it('read on the replica as the same batch of record objects would', () => {
    const changes = Array.from({ length: 5 }, (_, i) => change(i));
    const encoded = changes.map(({ record, how }) => encodeRecord(record, how));
    const asObjects = { batch: { records: changes.map(({ record, how }) => toWire(record, how)), sentAtMs: 1_763_770_001_000 } };
    expect(read(installed(encodedBatch(encoded, 1_763_770_001_000)))).toEqual(read(original.Replicate.responseSerialize(asObjects)));
    // fullSyncDone and a missing sentAtMs are written as protobufjs would too.
    const done = { batch: { records: encoded as unknown as SessionRecord[], fullSyncDone: true } };
    expect(read(installed(done))).toEqual(read(original.Replicate.responseSerialize({ ...asObjects, batch: { ...asObjects.batch, fullSyncDone: true, sentAtMs: 0 } })));
  });

  it('read as a Handback batch of objects would, from the serializer Handback uses', () => {
    const changes = Array.from({ length: 3 }, (_, i) => change(i));
    const handback = (loadBatonProto() as unknown as { baton: { v1: { PeerService: { service: { Handback: { responseSerialize: Serialize } } } } } }).baton.v1.PeerService.service
      .Handback.responseSerialize;
    const originalHandback = original as unknown as { Handback: { responseSerialize: Serialize; responseDeserialize: Deserialize } };
    const full = changes.map(({ record }) => encodeRecord(record));
    const asObjects = { records: changes.map(({ record }) => toWire(record)), sentAtMs: 7 };
    expect(originalHandback.Handback.responseDeserialize(handback(encodedRecords(full, 7)))).toEqual(
      originalHandback.Handback.responseDeserialize(originalHandback.Handback.responseSerialize(asObjects)),
    );
    const seen: unknown[] = [];
    const wrapped = spliceEncoded((value: unknown) => {
      seen.push(value);
      return Buffer.from('next');
    });
    expect(wrapped(asObjects).toString()).toBe('next');
    expect(wrapped({ records: [], sentAtMs: 1 }).toString()).toBe('next');
    expect(seen).toHaveLength(2);
  });

  it('are what Replicate serializes with, and leave every other message to the serializer it wraps', () => {
    const changes = [change(1)];
    const encoded = changes.map(({ record, how }) => encodeRecord(record, how));
    const seen: unknown[] = [];
    const wrapped = spliceEncoded((value: unknown) => {
      seen.push(value);
      return Buffer.from('next');
    }, SOURCE_BATCH_KEY);
    const others = [
      { heartbeat: { offset: 5, sentAtMs: 1 } },
      { batch: { records: [], fullSyncDone: true, sentAtMs: 2 } },
      { batch: { records: changes.map(({ record, how }) => toWire(record, how)), sentAtMs: 3 } },
    ];
    for (const message of others) expect(wrapped(message).toString()).toBe('next');
    expect(seen).toEqual(others);
    expect(wrapped(encodedBatch(encoded, 4)).toString()).not.toBe('next');
    // The one loadBatonProto installs splices: same bytes as the wrapper alone.
    expect(installed(encodedBatch(encoded, 4)).equals(wrapped(encodedBatch(encoded, 4)))).toBe(true);
  });
});
