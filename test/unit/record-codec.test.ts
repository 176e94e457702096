import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, scanRecord, toWire, withOffset } from '../../src/replication/record-codec.js';
import type { RecordEncoding } from '../../src/replication/record-codec.js';
import { loadProtobufRoot } from '../../src/rpc/proto-loader.js';
import { EMPTY_BYTES } from '../../src/sessions/owned-bytes.js';
import { dedupeEntry, fromByteString, NO_OPERATIONS, NO_TIMERS, toByteString } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';

const recordType = loadProtobufRoot().lookupType('baton.v1.SessionRecord');

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sessionId: 'sess-1',
    sessionType: 'counter',
    version: 7,
    schemaVersion: 3,
    owner: 'node-a',
    epoch: 2,
    state: '{"value":7}',
    timers: [
      { timerId: 't-1', deadlineMs: 1_763_770_000_123, payload: Buffer.from('{"type":"tick"}') },
      { timerId: 't-2', deadlineMs: 5, payload: EMPTY_BYTES },
    ],
    dedupe: [
      dedupeEntry('client:1', 6, ''),
      dedupeEntry('client:2', 7, '{"value":7}'),
      // A reply is bytes: every byte value survives as one character.
      dedupeEntry('client:3', 7, toByteString(Buffer.from([0, 0xff, 0x80, 0x7f]))),
    ],
    createdAtMs: 1_763_770_000_000,
    updatedAtMs: 1_763_770_000_456,
    ...overrides,
  };
}

/** A record as plain data, for comparisons that ignore how buffers are allocated. */
function plain(r: SessionRecord): unknown {
  return {
    ...r,
    state: fromByteString(r.state).toString('hex'),
    timers: r.timers.map((t) => ({ ...t, payload: Buffer.from(t.payload).toString('hex') })),
    dedupe: r.dedupe.map((d) => ({ ...d, reply: fromByteString(d.reply).toString('hex') })),
  };
}

/** Encodes a wire message with protobufjs, so the decoder is checked against another implementation. */
function encodeWire(message: Record<string, unknown>): Buffer {
  return Buffer.from(recordType.encode(recordType.fromObject(message)).finish());
}

describe('decodeRecord', () => {
  it('reads back every field encodeRecord writes', () => {
    const original = record();
    expect(plain(decodeRecord(encodeRecord(original)))).toEqual(plain(original));
  });

  it('handles every field of baton.v1.SessionRecord (a field added to the proto must be added to the decoder)', () => {
    // Kept: read into the record. Skipped: replication-only fields.
    const kept = ['sessionId', 'sessionType', 'version', 'owner', 'epoch', 'schemaVersion', 'state', 'timers', 'dedupe', 'createdAtMs', 'updatedAtMs'];
    const skipped = ['dedupeComplete', 'deleted', 'offset'];
    expect(Object.keys(recordType.fields).sort()).toEqual([...kept, ...skipped].sort());
    expect(Object.keys(recordType.lookupType('baton.v1.TimerRecord').fields).sort()).toEqual(['deadlineMs', 'payload', 'timerId']);
    expect(Object.keys(recordType.lookupType('baton.v1.DedupeRecord').fields).sort()).toEqual(['opId', 'reply', 'version']);
  });

  it('converts 64-bit fields to numbers as protobufjs does, negative and above 2^32 included', () => {
    const original = record({
      version: 2 ** 40 + 3,
      epoch: Number.MAX_SAFE_INTEGER,
      createdAtMs: -1,
      updatedAtMs: -(2 ** 40) - 5,
      timers: [{ timerId: 't', deadlineMs: -(2 ** 33), payload: EMPTY_BYTES }],
      dedupe: [dedupeEntry('o', 2 ** 35, '')],
    });
    expect(plain(decodeRecord(encodeRecord(original)))).toEqual(plain(original));
  });

  it('reads a record without timers or dedupe entries into the shared empty arrays', () => {
    const decoded = decodeRecord(encodeRecord(record({ timers: NO_TIMERS, dedupe: NO_OPERATIONS, state: '' })));
    expect(decoded.timers).toBe(NO_TIMERS);
    expect(decoded.dedupe).toBe(NO_OPERATIONS);
    expect(decoded.state.length).toBe(0);
  });

  it('decodes non-ASCII strings as UTF-8', () => {
    const original = record({ sessionId: 'sessión-✓', owner: 'nœud-a', dedupe: [dedupeEntry('opé', 1, '')] });
    expect(plain(decodeRecord(encodeRecord(original)))).toEqual(plain(original));
  });

  it('skips replication-only fields and fields it does not know, of every wire type', () => {
    const wire = encodeWire({ ...toWire(record()), dedupeComplete: true, deleted: true, offset: 99 });
    const unknown = (field: number, wireType: number, ...value: number[]): Buffer => Buffer.from([((field << 3) | wireType) & 0x7f | 0x80, field >> 4, ...value]);
    const withUnknown = Buffer.concat([
      unknown(20, 0, 0x96, 0x01),
      wire,
      unknown(21, 1, 1, 2, 3, 4, 5, 6, 7, 8),
      unknown(22, 2, 3, 0x61, 0x62, 0x63),
      unknown(23, 5, 1, 2, 3, 4),
    ]);
    expect(plain(decodeRecord(withUnknown))).toEqual(plain(record()));
  });

  it('accepts fields in any order, the last value of a repeated scalar winning', () => {
    const a = encodeWire({ version: 1, state: Buffer.from('old'), dedupe: [{ opId: 'x', version: 1 }] });
    const b = encodeWire({ sessionId: 's', sessionType: 'counter', owner: 'n', version: 5, state: Buffer.from('new'), dedupe: [{ opId: 'y', version: 5 }] });
    const decoded = decodeRecord(Buffer.concat([a, b]));
    expect(decoded.version).toBe(5);
    expect(decoded.state.toString()).toBe('new');
    expect(decoded.dedupe.map((d) => d.opId)).toEqual(['x', 'y']);
  });

  it('gives the record buffers of its own, not views of the bytes it was decoded from', () => {
    const encoded = encodeRecord(record());
    const inReply = Buffer.concat([Buffer.alloc(100, 0xaa), encoded, Buffer.alloc(100, 0xbb)]).subarray(100, 100 + encoded.length);
    const decoded = decodeRecord(inReply);
    // The state and the replies are byte strings: nothing of the reply's buffer is kept.
    expect(typeof decoded.state).toBe('string');
    for (const t of decoded.timers) expect(t.payload.buffer).not.toBe(inReply.buffer);
    expect(decoded.dedupe.map((d) => typeof d.reply)).toEqual(['string', 'string', 'string']);
    inReply.fill(0);
    expect(plain(decoded)).toEqual(plain(record()));
  });

  it('shares the strings of session types and owners between records', () => {
    const first = decodeRecord(encodeRecord(record({ sessionId: 'one' })));
    const second = decodeRecord(encodeRecord(record({ sessionId: 'two' })));
    expect(second.sessionType).toBe(first.sessionType);
    expect(second.owner).toBe(first.owner);
    expect(decodeRecord(encodeRecord(record({ owner: 'node-b' }))).owner).toBe('node-b');
  });

  it('throws on bytes that are not a record', () => {
    expect(() => decodeRecord(Buffer.from([0xff, 0x00, 0x13, 0x37]))).toThrow(/not a baton\.v1\.SessionRecord/);
    expect(() => decodeRecord(Buffer.from('{"value":1}'))).toThrow();
    expect(() => decodeRecord(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(/runs past the end/);
    expect(() => decodeRecord(Buffer.from([0x18, 0x80, 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeRecord(Buffer.from([0x18, ...Array<number>(11).fill(0xff)]))).toThrow(/longer than 10 bytes/);
    // session_id (field 1) sent as a varint.
    expect(() => decodeRecord(Buffer.from([0x08, 0x01]))).toThrow(/wire type 0 for session_id/);
    expect(() => decodeRecord(Buffer.from([0x00, 0x01]))).toThrow(/field number 0/);
  });

  it('throws on a record cut anywhere inside a field', () => {
    const encoded = encodeRecord(record());
    const fieldEnds = new Set<number>();
    // Where top-level fields end, a cut record is a valid, shorter message.
    const reader = protobuf.Reader.create(encoded);
    while (reader.pos < reader.len) {
      reader.skipType(reader.uint32() & 7);
      fieldEnds.add(reader.pos);
    }
    for (let cut = 1; cut < encoded.length; cut++) {
      if (fieldEnds.has(cut)) continue;
      expect(() => decodeRecord(encoded.subarray(0, cut)), `cut at ${cut}`).toThrow();
    }
  });

  it('throws on a record without a session id, type or owner', () => {
    expect(() => decodeRecord(encodeWire({ sessionType: 'counter', owner: 'a' }))).toThrow(/lacks a session id/);
    expect(() => decodeRecord(EMPTY_BYTES)).toThrow(/lacks a session id/);
  });

  it('decodes the next record normally after one that threw', () => {
    expect(() => decodeRecord(Buffer.from([0x4a, 0x02, 0x0a, 0x09]))).toThrow();
    expect(plain(decodeRecord(encodeRecord(record())))).toEqual(plain(record()));
  });
});

describe('encodeRecord', () => {
  /** What protobufjs reads from bytes, as plain data (64-bit fields as numbers, bytes as hex). */
  const readByProtobufjs = (bytes: Uint8Array): unknown =>
    recordType.toObject(recordType.decode(bytes), { longs: Number, bytes: String, defaults: true });
  /** The same record encoded by protobufjs from its wire form. */
  const encodedByProtobufjs = (r: SessionRecord): Buffer => encodeWire(toWire(r) as unknown as Record<string, unknown>);

  it('writes what protobufjs writes, field for field', () => {
    const records = [
      record(),
      record({ sessionId: 'sessión-✓', owner: 'nœud-a', dedupe: [dedupeEntry('opé', 1, toByteString(Buffer.from([0, 0xff])))] }),
      record({ timers: NO_TIMERS, dedupe: NO_OPERATIONS, state: '', version: 0, epoch: 0 }),
      record({
        version: 2 ** 40 + 3,
        epoch: 2 ** 32,
        createdAtMs: -(2 ** 33),
        updatedAtMs: 1,
        timers: [{ timerId: 'neg', deadlineMs: -5, payload: Buffer.from([1, 2, 3]) }],
        dedupe: Array.from({ length: 32 }, (_, i) => dedupeEntry(`client:${i}`, 2 ** 35 + i, i % 2 === 0 ? '' : `{"value":${i}}`)),
        state: toByteString(Buffer.alloc(300, 0xe9)),
      }),
    ];
    for (const r of records) {
      expect(readByProtobufjs(encodeRecord(r))).toEqual(readByProtobufjs(encodedByProtobufjs(r)));
      expect(plain(decodeRecord(encodeRecord(r)))).toEqual(plain(r));
    }
  });

  it('writes a replicated change as protobufjs writes its wire form: delta, deleted (no state), offset and state bytes', () => {
    const r = record({ state: toByteString(Buffer.from([0, 0xfe, 0x41])) });
    const delta = [{ opId: 'client:9', version: 7, reply: Buffer.from([0xff, 0]) }];
    const changes = [
      { dedupeDelta: delta, offset: 41 },
      { offset: 2 ** 33 },
      { dedupeDelta: [], deleted: true, offset: 42 },
      { dedupeDelta: [], offset: 1 },
    ];
    for (const how of changes) {
      const byProtobufjs = encodeWire(toWire(r, how) as unknown as Record<string, unknown>);
      expect(readByProtobufjs(encodeRecord(r, how))).toEqual(readByProtobufjs(byProtobufjs));
    }
    // A closed session's last record ships no state; any other ships the record's.
    const stateOf = (how: RecordEncoding): Uint8Array => (recordType.decode(encodeRecord(r, how)) as unknown as { state: Uint8Array }).state;
    expect(stateOf({ dedupeDelta: [], deleted: true, offset: 42 })).toHaveLength(0);
    expect(Buffer.from(stateOf({ offset: 1 }))).toEqual(Buffer.from([0, 0xfe, 0x41]));
  });

  it('gives a snapshot encoding its replication offset by appending the field, as if encoded with it', () => {
    const r = record();
    for (const offset of [1, 300, 2 ** 40]) {
      expect(readByProtobufjs(withOffset(encodeRecord(r), offset))).toEqual(readByProtobufjs(encodeRecord(r, { offset })));
    }
    const bytes = encodeRecord(r);
    expect(withOffset(bytes, undefined)).toBe(bytes);
    expect(withOffset(bytes, 0)).toBe(bytes);
    // What the replica keeps of it is the record itself.
    expect(plain(decodeRecord(withOffset(bytes, 9)))).toEqual(plain(r));
  });

  it('marks the dedupe window complete: a snapshot holds the whole window', () => {
    const decoded = recordType.decode(encodeRecord(record())) as unknown as { dedupeComplete: boolean };
    expect(decoded.dedupeComplete).toBe(true);
  });
});

describe('scanRecord', () => {
  /** Whether `fn` throws. */
  const throws = (fn: () => unknown): boolean => {
    try {
      fn();
      return false;
    } catch {
      return true;
    }
  };

  it('finds the id, owner, version and timer count decodeRecord reads', () => {
    const bytes = encodeRecord(record({ sessionId: 'séance', owner: 'nöde' }));
    const head = scanRecord(bytes);
    expect(head.sessionId).toBe('séance');
    expect(head.owner).toBe('nöde');
    expect(head.version).toBe(7);
    expect(head.timers).toBe(2);
    const later = encodeWire({ sessionId: 's', sessionType: 'counter', owner: 'n', version: 9 });
    expect(scanRecord(Buffer.concat([bytes, later])).version).toBe(9);
  });

  it('throws exactly where decodeRecord throws: every cut, every byte changed', () => {
    const samples = [encodeRecord(record()), encodeRecord(record({ timers: NO_TIMERS, dedupe: NO_OPERATIONS }))];
    let cases = 0;
    let rejected = 0;
    for (const encoded of samples) {
      const variants: Buffer[] = [];
      for (let cut = 0; cut <= encoded.length; cut++) variants.push(encoded.subarray(0, cut));
      for (let at = 0; at < encoded.length; at++) {
        for (const value of [0x00, 0x02, 0x08, 0x7f, 0x80, 0xff, (encoded[at] as number) ^ 0x05]) {
          const changed = Buffer.from(encoded);
          changed[at] = value;
          variants.push(changed);
        }
      }
      for (const bytes of variants) {
        const decodeThrows = throws(() => decodeRecord(bytes));
        expect(throws(() => scanRecord(bytes)), `bytes ${bytes.toString('hex')}`).toBe(decodeThrows);
        cases++;
        if (decodeThrows) rejected++;
      }
    }
    // Both outcomes were exercised many times.
    expect(rejected).toBeGreaterThan(100);
    expect(cases - rejected).toBeGreaterThan(100);
  });

  it('leaves decodeRecord working after one that threw', () => {
    expect(() => scanRecord(Buffer.from([0x4a, 0x02, 0x0a, 0x09]))).toThrow();
    expect(plain(decodeRecord(encodeRecord(record())))).toEqual(plain(record()));
  });
});
