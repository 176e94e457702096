import { describe, expect, it } from 'vitest';
import { measureRecord, writeRecord } from '../../src/replication/record-codec.js';
import type { RecordEncoding } from '../../src/replication/record-codec.js';
import { ReplicationLog } from '../../src/replication/replication-log.js';
import type { ChangeEncoder } from '../../src/replication/replication-log.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';
import { loadProtobufRoot } from '../../src/rpc/proto-loader.js';
import { dedupeEntry } from '../../src/sessions/session-record.js';

const WireRecord = loadProtobufRoot().lookupType('baton.v1.SessionRecord');

/** A change of session `id` with `stateBytes` of state. */
const record = (id: string, stateBytes = 10): SessionRecord => ({
  sessionId: id,
  sessionType: 'counter',
  version: 1,
  schemaVersion: 1,
  owner: 'a',
  epoch: 1,
  state: 'x'.repeat(stateBytes),
  timers: [],
  dedupe: [dedupeEntry('c:1', 1, '')],
  createdAtMs: 1,
  updatedAtMs: 2,
});

/** Encodes a record as a change with the offset it gets; counts what it encodes. */
class CountingEncoder implements ChangeEncoder<SessionRecord> {
  measured = 0;
  written = 0;
  protected change: SessionRecord | undefined;
  private how: RecordEncoding = {};

  measure(change: SessionRecord, offset: number): number {
    this.measured += 1;
    this.change = change;
    this.how = { dedupeDelta: [], offset };
    return measureRecord(change, this.how);
  }

  write(buf: Buffer, pos: number, size: number): void {
    this.written += 1;
    writeRecord(buf, pos, this.change as SessionRecord, this.how, size);
  }
}

const newLog = (backlogBytes: number, encoder = new CountingEncoder()): ReplicationLog<SessionRecord> => new ReplicationLog(backlogBytes, encoder);

/** What a replica reads of a change the log returns. */
const read = (bytes: Buffer): { offset: number; sessionId: string } => {
  const wire = WireRecord.toObject(WireRecord.decode(bytes), { longs: Number }) as { offset: number; sessionId: string };
  return { offset: wire.offset, sessionId: wire.sessionId };
};

describe('ReplicationLog', () => {
  it('numbers records from 1 and reads them back after an offset', () => {
    const log = newLog(1_000_000);
    for (let i = 0; i < 5; i++) log.append(record(`s${i}`));
    expect(log.offset).toBe(5);
    expect(log.readAfter(2, 10).map((r) => [read(r).offset, read(r).sessionId])).toEqual([
      [3, 's2'],
      [4, 's3'],
      [5, 's4'],
    ]);
    expect(log.readAfter(5, 10)).toEqual([]);
    expect(log.readAfter(0, 2).map((r) => read(r).offset)).toEqual([1, 2]);
  });

  it('keeps at most backlogBytes and resumes only replicas inside it, of the same replication id', () => {
    const log = newLog(1_000);
    for (let i = 0; i < 100; i++) log.append(record(`s${i}`, 90));
    expect(log.backlogSize).toBeLessThanOrEqual(1_000);
    const first = log.firstResumableOffset;
    expect(first).toBeGreaterThan(80);
    expect(log.canResume(log.replicationId, first)).toBe(true);
    expect(log.canResume(log.replicationId, 100)).toBe(true);
    expect(log.canResume(log.replicationId, first - 1)).toBe(false);
    expect(log.canResume('another-id', 100)).toBe(false);
    expect(log.canResume(log.replicationId, 101)).toBe(false);
    expect(read(log.readAfter(first, 1000)[0] as Buffer).offset).toBe(first + 1);
  });

  it('reports the lag of a replica behind it', () => {
    const log = newLog(1_000_000);
    for (let i = 0; i < 10; i++) log.append(record(`s${i}`));
    expect(log.lagAfter(10)).toEqual({ records: 0, bytes: 0, ms: 0 });
    const lag = log.lagAfter(7);
    expect(lag.records).toBe(3);
    expect(lag.bytes).toBeGreaterThan(30);
  });

  it('with no backlog numbers changes without encoding them', () => {
    const encoder = new CountingEncoder();
    const log = newLog(0, encoder);
    for (let i = 0; i < 3; i++) log.append(record(`s${i}`));
    expect([log.offset, encoder.measured, encoder.written, log.backlogSize, log.firstResumableOffset]).toEqual([3, 0, 0, 0, 3]);
    expect(log.readAfter(0, 10)).toEqual([]);
    expect(log.canResume(log.replicationId, 3)).toBe(true);
    expect(log.canResume(log.replicationId, 2)).toBe(false);
  });

  it('keeps each change as the encoder wrote it into the store, beside changes too large for a chunk', () => {
    const log = newLog(64 * 1024 * 1024);
    const sizes = [10, 2 * 1024 * 1024, 10, 300_000, 300_000, 300_000, 300_000, 10];
    sizes.forEach((bytes, i) => log.append(record(`s${i}`, bytes)));
    const kept = log.readAfter(0, sizes.length);
    expect(kept.map((bytes) => read(bytes))).toEqual(sizes.map((_, i) => ({ offset: i + 1, sessionId: `s${i}` })));
    expect(kept.map((bytes) => (WireRecord.decode(bytes) as unknown as { state: Uint8Array }).state.length)).toEqual(sizes);
  });

  it('gives a change its encoder fails to write no offset and no room', () => {
    class FailingEncoder extends CountingEncoder {
      override write(buf: Buffer, pos: number, size: number): void {
        if (this.change?.sessionId === 'bad') throw new Error('cannot encode');
        super.write(buf, pos, size);
      }
    }
    const log = newLog(1_000_000, new FailingEncoder());
    log.append(record('a'));
    const kept = log.lagAfter(0).bytes;
    expect(() => log.append(record('bad'))).toThrow('cannot encode');
    log.append(record('b'));
    expect(log.readAfter(0, 10).map((bytes) => read(bytes))).toEqual([
      { offset: 1, sessionId: 'a' },
      { offset: 2, sessionId: 'b' },
    ]);
    expect([log.offset, log.backlogSize]).toEqual([2, 2 * kept]);
  });

  it('hands out views that stay right after their changes leave the backlog', () => {
    const log = newLog(2_000);
    log.append(record('kept-view', 500));
    const [view] = log.readAfter(0, 1);
    for (let i = 0; i < 10_000; i++) log.append(record(`s${i}`, 500));
    expect(log.firstResumableOffset).toBeGreaterThan(1);
    expect(read(view as Buffer)).toEqual({ offset: 1, sessionId: 'kept-view' });
  });

  it('tells listeners about every append', () => {
    const log = newLog(1_000);
    let calls = 0;
    const off = log.onAppend(() => (calls += 1));
    log.append(record('a'));
    log.append(record('b'));
    off();
    log.append(record('c'));
    expect(calls).toBe(2);
  });
});
