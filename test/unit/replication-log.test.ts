import { describe, expect, it } from 'vitest';
import { ReplicationLog } from '../../src/replication/replication-log.js';

const record = (id: string, stateBytes = 10): { sessionId: string; state: Buffer } => ({ sessionId: id, state: Buffer.alloc(stateBytes) });

describe('ReplicationLog', () => {
  it('numbers records from 1 and reads them back after an offset', () => {
    const log = new ReplicationLog(1_000_000);
    for (let i = 0; i < 5; i++) log.append(record(`s${i}`));
    expect(log.offset).toBe(5);
    expect(log.readAfter(2, 10).map((r) => [r.offset, r.sessionId])).toEqual([
      [3, 's2'],
      [4, 's3'],
      [5, 's4'],
    ]);
    expect(log.readAfter(5, 10)).toEqual([]);
    expect(log.readAfter(0, 2).map((r) => r.offset)).toEqual([1, 2]);
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
    expect(log.readAfter(first, 1000)[0]?.offset).toBe(first + 1);
  });

  it('reports the lag of a replica behind it', () => {
    const log = new ReplicationLog(1_000_000);
    for (let i = 0; i < 10; i++) log.append(record(`s${i}`));
    expect(log.lagAfter(10)).toEqual({ records: 0, bytes: 0, ms: 0 });
    const lag = log.lagAfter(7);
    expect(lag.records).toBe(3);
    expect(lag.bytes).toBeGreaterThan(30);
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
