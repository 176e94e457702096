import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../../src/sessions/packed-record.js';
import { encodeRecord, scanRecord } from '../../src/replication/record-codec.js';
import { dedupeEntry, toByteString } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';

const record: SessionRecord = {
  sessionId: 'p-1',
  sessionType: 'counter',
  version: 300,
  schemaVersion: 2,
  owner: 'nœud-a',
  epoch: 4,
  state: toByteString(Buffer.from([0, 1, 0xfe, 0xff])),
  timers: [{ timerId: 't', deadlineMs: 1_763_770_000_123, payload: Buffer.from('{}') }],
  dedupe: [dedupeEntry('c:1', 300, toByteString(Buffer.from([0x80, 0])))],
  createdAtMs: 1_763_770_000_000,
  updatedAtMs: 1_763_770_000_999,
};

describe('packed records', () => {
  it('unpack to the record that was packed, every byte of state and reply included', () => {
    const back = unpack(pack(record));
    expect({ ...back, timers: back.timers.map((t) => ({ ...t, payload: t.payload.toString() })) }).toEqual({
      ...record,
      timers: record.timers.map((t) => ({ ...t, payload: t.payload.toString() })),
    });
  });

  it('are the snapshot encoding, as bytes', () => {
    expect(pack(record).equals(encodeRecord(record))).toBe(true);
  });

  it('tell their id, owner, version and timers to scanRecord without being unpacked', () => {
    const head = (packed: Buffer): unknown => ({ ...scanRecord(packed) });
    expect(head(pack(record))).toEqual({ sessionId: 'p-1', owner: 'nœud-a', version: 300, timers: 1 });
    expect(head(pack({ ...record, version: 0, owner: 'b', timers: [] }))).toEqual({ sessionId: 'p-1', owner: 'b', version: 0, timers: 0 });
    expect(head(pack({ ...record, version: 2 ** 40 }))).toMatchObject({ version: 2 ** 40 });
  });
});
