import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/replication/record-codec.js';
import { ReplicationLog } from '../../src/replication/replication-log.js';
import type { EncodeChange } from '../../src/replication/replication-log.js';
import { loadProtobufRoot } from '../../src/rpc/proto-loader.js';
import { dedupeEntry } from '../../src/sessions/session-record.js';

const WireRecord = loadProtobufRoot().lookupType('baton.v1.SessionRecord');

/** A change of session `id` with `stateBytes` of state, encoded with the offset it gets. */
const record =
  (id: string, stateBytes = 10): EncodeChange =>
  (offset) =>
    encodeRecord(
      {
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
      },
      { dedupeDelta: [], offset },
    );

/** What a replica reads of a change the log returns. */
const read = (bytes: Buffer): { offset: number; sessionId: string } => {
  const wire = WireRecord.toObject(WireRecord.decode(bytes), { longs: Number }) as { offset: number; sessionId: string };
  return { offset: wire.offset, sessionId: wire.sessionId };
};

describe('ReplicationLog', () => {
  it('numbers records from 1 and reads them back after an offset', () => {
    const log = new ReplicationLog(1_000_000);
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
    const log = new ReplicationLog(1_000);
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
    const log = new ReplicationLog(1_000_000);
    for (let i = 0; i < 10; i++) log.append(record(`s${i}`));
    expect(log.lagAfter(10)).toEqual({ records: 0, bytes: 0, ms: 0 });
    const lag = log.lagAfter(7);
    expect(lag.records).toBe(3);
    expect(lag.bytes).toBeGreaterThan(30);
  });

  it('with no backlog numbers changes without encoding them', () => {
    const log = new ReplicationLog(0);
    let encoded = 0;
    for (let i = 0; i < 3; i++) {
      log.append((offset) => {
        encoded += 1;
        return record(`s${i}`)(offset);
      });
    }
    expect([log.offset, encoded, log.backlogSize, log.firstResumableOffset]).toEqual([3, 0, 0, 3]);
    expect(log.readAfter(0, 10)).toEqual([]);
    expect(log.canResume(log.replicationId, 3)).toBe(true);
    expect(log.canResume(log.replicationId, 2)).toBe(false);
  });

  it('hands out views that stay right after their changes leave the backlog', () => {
    const log = new ReplicationLog(2_000);
    log.append(record('kept-view', 500));
    const [view] = log.readAfter(0, 1);
    for (let i = 0; i < 10_000; i++) log.append(record(`s${i}`, 500));
    expect(log.firstResumableOffset).toBeGreaterThan(1);
    expect(read(view as Buffer)).toEqual({ offset: 1, sessionId: 'kept-view' });
  });

  it('tells listeners about every append', () => {
    const log = new ReplicationLog(1_000);
    let calls = 0;
    const off = log.onAppend(() => (calls += 1));
    log.append(record('a'));
    log.append(record('b'));
    off();
    log.append(record('c'));
    expect(calls).toBe(2);
  });
});
