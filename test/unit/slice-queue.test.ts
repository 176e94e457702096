import { describe, expect, it } from 'vitest';
import { SliceQueue } from '../../src/rpc/slice-queue.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function queue(slice: number) {
  const ran: number[] = [];
  let drained = 0;
  const q = new SliceQueue<number>(
    (n) => ran.push(n),
    () => (drained += 1),
    slice,
  );
  return { q, ran, drainedCount: () => drained };
}

describe('SliceQueue', () => {
  it('runs the first slice at once and the rest one slice per turn, in order', async () => {
    const { q, ran, drainedCount } = queue(4);
    q.push([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(q.size).toBe(6);
    await turn();
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(drainedCount()).toBe(0);
    await turn();
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(q.size).toBe(0);
    expect(drainedCount()).toBe(1);
  });

  it('runs a quarter of a long queue per turn, so a backlog clears in a few turns', async () => {
    const { q, ran } = queue(2);
    q.push(Array.from({ length: 40 }, (_, i) => i));
    expect(ran).toHaveLength(10);
    await turn();
    expect(ran).toHaveLength(10 + 8);
    await turn();
    expect(ran).toHaveLength(18 + 6);
    expect(ran).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('runs a batch no larger than a slice at once and reports it drained', () => {
    const { q, ran, drainedCount } = queue(4);
    q.push([1, 2, 3]);
    expect(ran).toEqual([1, 2, 3]);
    expect(drainedCount()).toBe(1);
  });

  it('queues what arrives while a slice is pending behind what came first', async () => {
    const { q, ran } = queue(2);
    q.push([1, 2, 3]);
    q.push([4, 5]);
    expect(ran).toEqual([1, 2]);
    await turn();
    await turn();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs nothing more once cleared, and never reports drained', async () => {
    const { q, ran, drainedCount } = queue(2);
    q.push([1, 2, 3, 4]);
    q.clear();
    q.push([5]);
    await turn();
    await turn();
    expect(ran).toEqual([1, 2]);
    expect(q.size).toBe(0);
    expect(drainedCount()).toBe(0);
  });

  it('stops within a slice when an item clears the queue', () => {
    const ran: number[] = [];
    const q: SliceQueue<number> = new SliceQueue<number>(
      (n) => {
        ran.push(n);
        if (n === 2) q.clear();
      },
      () => {},
      8,
    );
    q.push([1, 2, 3]);
    expect(ran).toEqual([1, 2]);
  });

  it('keeps the order across many arrays pushed while it never empties', async () => {
    const { q, ran, drainedCount } = queue(2);
    let next = 0;
    const batch = (): number[] => [next++, next++, next++];
    q.push(batch());
    for (let round = 0; round < 300; round++) {
      q.push(batch());
      await turn();
    }
    expect(drainedCount()).toBe(0);
    while (q.size > 0) await turn();
    expect(ran).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(drainedCount()).toBe(1);
  });

  it('takes a pushed array over and empties its slots as it runs them', async () => {
    const { q } = queue(2);
    const items = [1, 2, 3, 4, 5];
    q.push(items);
    expect(items).toEqual([undefined, undefined, 3, 4, 5]);
    await turn();
    await turn();
    expect(items).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
