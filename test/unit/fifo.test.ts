import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/fifo.js';

describe('Fifo', () => {
  it('gives items back oldest first, and undefined once empty', () => {
    const q = new Fifo<number>();
    for (const n of [1, 2, 3]) q.push(n);
    expect([q.size, q.peek()]).toEqual([3, 1]);
    expect([q.shift(), q.shift()]).toEqual([1, 2]);
    q.push(4);
    expect([q.shift(), q.shift(), q.shift(), q.peek(), q.size]).toEqual([3, 4, undefined, undefined, 0]);
  });

  it('keeps the order through many pushes and shifts while it never empties', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 5_000; round++) {
      q.push(next++);
      q.push(next++);
      out.push(q.shift() as number);
      expect(q.size).toBe(round + 1);
    }
    while (q.size > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('hands back everything left when cleared, and starts empty again', () => {
    const q = new Fifo<string>();
    for (const s of ['a', 'b', 'c']) q.push(s);
    q.shift();
    expect(q.clear()).toEqual(['b', 'c']);
    expect([q.size, q.shift()]).toEqual([0, undefined]);
    q.push('d');
    expect(q.shift()).toBe('d');
  });
});
