import { describe, expect, it } from 'vitest';
import { ownerKey, pack, packedBytes, packedHead, unpack } from '../../src/sessions/packed-record.js';
import { encodeRecord } from '../../src/replication/record-codec.js';
import { toByteString } from '../../src/sessions/session-record.js';
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
  dedupe: [{ opId: 'c:1', version: 300, reply: toByteString(Buffer.from([0x80, 0])) }],
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
    expect(packedBytes(pack(record)).equals(encodeRecord(record))).toBe(true);
  });

  it('tell their version and owner without being unpacked', () => {
    const head = packedHead(pack(record));
    expect(head.version).toBe(300);
    expect(head.owner).toBe(ownerKey('nœud-a'));
    expect(head.owner).not.toBe(ownerKey('nœud-b'));
    expect(packedHead(pack({ ...record, version: 0, owner: 'b' }))).toEqual({ version: 0, owner: 'b' });
    expect(packedHead(pack({ ...record, version: 2 ** 40 })).version).toBe(2 ** 40);
  });
});
