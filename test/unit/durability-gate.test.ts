import { describe, expect, it } from 'vitest';
import { NoReplicaError } from '../../src/errors.js';
import { DurabilityGate } from '../../src/replication/durability-gate.js';

describe('DurabilityGate', () => {
  it('in async mode confirms at once', () => {
    const gate = new DurabilityGate('async', 0);
    gate.attach(0);
    expect(gate.confirm(10)).toBeUndefined();
  });

  it('in sync mode releases every waiter at or below an acked offset at once (group commit)', async () => {
    const gate = new DurabilityGate('sync', 0);
    gate.attach(0);
    const done: number[] = [];
    const waits = [1, 2, 3, 4].map((o) => (gate.confirm(o) as Promise<void>).then(() => done.push(o)));
    gate.onAck(3);
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toEqual([1, 2, 3]);
    expect(gate.confirm(2)).toBeUndefined();
    gate.onAck(4);
    await Promise.all(waits);
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('runs solo without a replica, and releases waiters when the replica detaches', async () => {
    const gate = new DurabilityGate('sync', 0);
    expect(gate.confirm(1)).toBeUndefined();
    gate.attach(0);
    const waiting = gate.confirm(5) as Promise<void>;
    gate.detach('link lost');
    await expect(waiting).resolves.toBeUndefined();
    expect(gate.replicaAttached).toBe(false);
  });

  it('with minReplicas 1 refuses writes without a replica and fails waiters whose replica left', async () => {
    const gate = new DurabilityGate('sync', 1);
    expect(() => gate.checkWritable()).toThrow(NoReplicaError);
    gate.attach(0);
    expect(() => gate.checkWritable()).not.toThrow();
    const waiting = gate.confirm(3) as Promise<void>;
    gate.detach('link lost');
    await expect(waiting).rejects.toThrow(/the replica detached \(link lost\) before confirming this change; retry with the same operation id/);
    expect(() => gate.checkWritable()).toThrow(/--min-replicas is 1/);
  });
});
