import { describe, expect, it } from 'vitest';
import { decodeBatch, encodedBatch, encodedRecords, receiveDecoded, receivedBatch, SOURCE_BATCH_FIELD, spliceEncoded } from '../../src/replication/encoded-batch.js';
import { decodeRecord, encodeRecord, toWire } from '../../src/replication/record-codec.js';
import type { RecordEncoding } from '../../src/replication/record-codec.js';
import { loadBatonProto, loadDefinition } from '../../src/rpc/proto-loader.js';
import { dedupeEntry } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

type PeerMethods = Record<'Replicate' | 'Handback', { responseSerialize: Serialize; responseDeserialize: Deserialize }>;
/** The PeerService methods as loadBatonProto installs them. */
const peer = (loadBatonProto() as unknown as { baton: { v1: { PeerService: { service: PeerMethods } } } }).baton.v1.PeerService.service;

const installed = (loadBatonProto() as unknown as { baton: { v1: { PeerService: { service: { Replicate: { responseSerialize: Serialize } } } } } }).baton.v1.PeerService
  .service.Replicate.responseSerialize;
const original = loadDefinition()['baton.v1.PeerService'] as unknown as { Replicate: { responseSerialize: Serialize; responseDeserialize: Deserialize } };
/** What the replica reads: proto-loader's own deserializer. */
const read = (bytes: Buffer): unknown => original.Replicate.responseDeserialize(bytes);

const change = (i: number): { record: SessionRecord; how: RecordEncoding } => ({
  record: {
    sessionId: `s-${i}`,
    sessionType: 'counter',
    version: 10 + i,
    schemaVersion: 1,
    owner: 'a',
    epoch: 3,
    state: `{"value":${i}}`,
    timers: i % 2 === 0 ? [] : [{ timerId: 't', deadlineMs: 1_763_770_000_000 + i, payload: Buffer.from('{}') }],
    dedupe: [dedupeEntry('c:0', 10, '')],
    createdAtMs: 1_763_770_000_000,
    updatedAtMs: 1_763_770_000_000 + i,
  },
  how: {
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
    }, SOURCE_BATCH_FIELD);
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

describe('received batches', () => {
  /** What proto-loader read of a record, in the terms the replica installs. */
  const viaProtoLoader = (wire: Record<string, unknown>) => ({
    sessionId: wire.sessionId,
    version: wire.version,
    offset: wire.offset,
    deleted: wire.deleted,
    dedupeComplete: wire.dedupeComplete,
    state: (wire.state as Buffer).toString('latin1'),
    dedupe: (wire.dedupe as { opId: string; version: number; reply: Buffer }[]).map((d) => [d.opId, d.version, d.reply.toString('latin1')]),
    timers: (wire.timers as { timerId: string; deadlineMs: number }[]).map((t) => [t.timerId, t.deadlineMs]),
    updatedAtMs: wire.updatedAtMs,
  });
  const viaDirect = ({ record, offset, deleted, dedupeComplete }: ReturnType<typeof decodeBatch>['records'][number]) => ({
    sessionId: record.sessionId,
    version: record.version,
    offset,
    deleted,
    dedupeComplete,
    state: record.state,
    dedupe: record.dedupe.map((d) => [d.opId, d.version, d.reply]),
    timers: record.timers.map((t) => [t.timerId, t.deadlineMs]),
    updatedAtMs: record.updatedAtMs,
  });

  it('read on the replica as proto-loader reads them, with every replication field', () => {
    const changes = Array.from({ length: 5 }, (_, i) => change(i));
    const bytes = installed(encodedBatch(changes.map(({ record, how }) => encodeRecord(record, how)), 1_763_770_001_000));
    const expected = read(bytes) as { batch: { records: Record<string, unknown>[]; sentAtMs: number } };
    const received = peer.Replicate.responseDeserialize(bytes) as { batch: { records: []; sentAtMs: number }; kind: string };
    expect(received.kind).toBe('batch');
    const { records, fullSyncDone, sentAtMs } = receivedBatch(received.batch as never);
    expect(records.map(viaDirect)).toEqual(expected.batch.records.map(viaProtoLoader));
    expect(records.map((r) => r.offset)).toEqual([500, 501, 502, 503, 504]);
    expect(records.map((r) => r.deleted)).toEqual([false, false, false, true, false]);
    expect(records.every((r) => !r.dedupeComplete)).toBe(true);
    expect([fullSyncDone, sentAtMs]).toEqual([false, 1_763_770_001_000]);
    // The record itself is what decodeRecord makes of the same bytes.
    const first = changes[0] as ReturnType<typeof change>;
    expect(records[0]?.record).toEqual(decodeRecord(encodeRecord(first.record, first.how)));
  });

  it('read a handback of whole records, and a batch that only ends a full copy', () => {
    const changes = Array.from({ length: 3 }, (_, i) => change(i));
    const full = peer.Handback.responseDeserialize(peer.Handback.responseSerialize(encodedRecords(changes.map(({ record }) => encodeRecord(record)), 7)));
    const { records, sentAtMs } = receivedBatch(full as never);
    expect(sentAtMs).toBe(7);
    expect(records.map((r) => [r.record.sessionId, r.dedupeComplete, r.deleted, r.offset])).toEqual([
      ['s-0', true, false, 0],
      ['s-1', true, false, 0],
      ['s-2', true, false, 0],
    ]);
    const done = peer.Replicate.responseDeserialize(peer.Replicate.responseSerialize({ batch: { records: [], fullSyncDone: true, sentAtMs: 2 } }));
    expect(done).toEqual({ batch: { records: [], fullSyncDone: true, sentAtMs: 2 }, kind: 'batch' });
  });

  it('leave welcomes and heartbeats to the deserializer they wrap', () => {
    const seen: Buffer[] = [];
    const wrapped = receiveDecoded((bytes) => {
      seen.push(bytes);
      return 'next';
    }, SOURCE_BATCH_FIELD);
    const heartbeat = original.Replicate.responseSerialize({ heartbeat: { offset: 5, sentAtMs: 1 } });
    const welcome = original.Replicate.responseSerialize({ welcome: { nodeId: 'a', offset: 3, mode: 'PARTIAL' } });
    expect([wrapped(heartbeat), wrapped(welcome)]).toEqual(['next', 'next']);
    expect(seen).toEqual([heartbeat, welcome]);
    expect(peer.Replicate.responseDeserialize(heartbeat)).toEqual(read(heartbeat));
    expect(peer.Replicate.responseDeserialize(welcome)).toEqual(read(welcome));
  });

  it('throw on bytes that are not a batch, naming the message', () => {
    const good = installed(encodedBatch([encodeRecord(change(1).record, change(1).how)], 5));
    expect(() => peer.Replicate.responseDeserialize(good.subarray(0, good.length - 4))).toThrow(/not a baton\.v1\.(SourceMessage|RecordBatch|SessionRecord)/);
    expect(() => decodeBatch(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(/not a baton\.v1\.RecordBatch: length 5 runs past the end/);
    expect(() => decodeBatch(Buffer.from([0x0a, 0x02, 0x08, 0x01]))).toThrow(/not a baton\.v1\.SessionRecord|lacks a session id/);
  });

  it('are refused when read by a deserializer other than the one installed', () => {
    const wire = read(installed(encodedBatch([encodeRecord(change(1).record, change(1).how)], 5))) as { batch: never };
    expect(() => receivedBatch(wire.batch)).toThrow(/not read by the deserializer receiveDecoded installs/);
  });
});
