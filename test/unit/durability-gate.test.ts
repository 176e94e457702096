import { describe, expect, it } from 'vitest';
import { NoReplicaError } from '../../src/errors.js';
import { DurabilityGate } from '../../src/replication/durability-gate.js';

/** Confirms `offset`; returns what the gate has answered so far: nothing yet, null (go) or an error. */
function confirm(gate: DurabilityGate, offset: number): { answer: Error | null | undefined; calls: number } {
  const seen = { answer: undefined as Error | null | undefined, calls: 0 };
  gate.confirm(offset, (err) => {
    seen.answer = err;
    seen.calls += 1;
  });
  return seen;
}

describe('DurabilityGate', () => {
  it('in async mode confirms at once', () => {
    const gate = new DurabilityGate('async', 0);
    gate.attach(0);
    expect(confirm(gate, 10)).toEqual({ answer: null, calls: 1 });
  });

  it('in sync mode releases every waiter at or below an acked offset at once (group commit), in order', () => {
    const gate = new DurabilityGate('sync', 0);
    gate.attach(0);
    const done: number[] = [];
    for (const o of [1, 2, 3, 4]) gate.confirm(o, (err) => done.push(err === null ? o : -o));
    expect(done).toEqual([]);
    expect(gate.pending).toBe(4);
    gate.onAck(3);
    expect(done).toEqual([1, 2, 3]);
    expect(confirm(gate, 2)).toEqual({ answer: null, calls: 1 });
    gate.onAck(4);
    expect(done).toEqual([1, 2, 3, 4]);
    // A late or repeated ack releases nothing twice.
    gate.onAck(4);
    gate.onAck(2);
    expect(done).toEqual([1, 2, 3, 4]);
    expect(gate.pending).toBe(0);
  });

  it('runs solo without a replica, and releases waiters when the replica detaches', () => {
    const gate = new DurabilityGate('sync', 0);
    expect(confirm(gate, 1)).toEqual({ answer: null, calls: 1 });
    gate.attach(0);
    const waiting = confirm(gate, 5);
    expect(waiting.calls).toBe(0);
    gate.detach('link lost');
    expect(waiting).toEqual({ answer: null, calls: 1 });
    expect(gate.replicaAttached).toBe(false);
  });

  it('with minReplicas 1 refuses writes without a replica and fails waiters whose replica left', () => {
    const gate = new DurabilityGate('sync', 1);
    expect(() => gate.checkWritable()).toThrow(NoReplicaError);
    gate.attach(0);
    expect(() => gate.checkWritable()).not.toThrow();
    const waiting = confirm(gate, 3);
    gate.detach('link lost');
    expect(waiting.calls).toBe(1);
    expect(waiting.answer).toBeInstanceOf(NoReplicaError);
    expect(waiting.answer?.message).toMatch(/the replica detached \(link lost\) before confirming this change; retry with the same operation id/);
    expect(() => gate.checkWritable()).toThrow(/--min-replicas is 1/);
    expect(confirm(gate, 4).answer).toBeInstanceOf(NoReplicaError);
  });
});
