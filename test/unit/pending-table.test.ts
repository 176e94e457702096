import { describe, expect, it } from 'vitest';
import { PendingTable } from '../../src/client/pending-table.js';

/** A seeded generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('PendingTable', () => {
  it('gives each value back once, under its own id', () => {
    const t = new PendingTable<string>();
    t.set(1, 'a');
    t.set(2, 'b');
    expect(t.size).toBe(2);
    expect([t.take(2), t.take(2), t.take(1), t.take(3)]).toEqual(['b', undefined, 'a', undefined]);
    expect(t.size).toBe(0);
  });

  it('finds nothing under id 0, what an answer without an id carries', () => {
    const t = new PendingTable<string>();
    expect([t.take(0), t.size]).toEqual([undefined, 0]);
    t.set(1, 'a');
    expect([t.take(0), t.size, t.take(1)]).toEqual([undefined, 1, 'a']);
  });

  it('finds ids that share a slot, whichever of them leaves first', () => {
    // 1, 65, 129 and 193 share slot 1 of the first 64 slots.
    const t = new PendingTable<number>();
    for (const id of [1, 65, 129, 2, 193]) t.set(id, id * 10);
    expect(t.take(65)).toBe(650);
    expect(t.take(1)).toBe(10);
    expect([t.take(193), t.take(2), t.take(129), t.size]).toEqual([1930, 20, 1290, 0]);
  });

  it('agrees with a Map through sequential ids, stragglers and growth', () => {
    // Like a stream: ids in order, most answered soon in any order, a
    // few left pending for a long time while thousands pass them.
    const next = random(7);
    const t = new PendingTable<number>();
    const model = new Map<number, number>();
    let id = 0;
    for (let step = 0; step < 60_000; step++) {
      if (next() < 0.505 || model.size === 0) {
        id += 1;
        t.set(id, -id);
        model.set(id, -id);
      } else {
        const live = [...model.keys()];
        // Mostly one of the newest, now and then any of them.
        const pick = next() < 0.9 ? live[live.length - 1 - Math.floor(next() * Math.min(live.length, 32))] : live[Math.floor(next() * live.length)];
        expect(t.take(pick as number)).toBe(model.get(pick as number));
        model.delete(pick as number);
      }
      expect(t.size).toBe(model.size);
    }
    expect(model.size).toBeGreaterThan(64);
    for (const [k, v] of model) expect(t.take(k)).toBe(v);
    expect(t.size).toBe(0);
  });

  it('removes and drains the entries that shared a slot too', () => {
    const t = new PendingTable<number>();
    for (const id of [1, 65, 129, 193]) t.set(id, id);
    expect(t.removeWhere((v) => v === 65 || v === 129).sort((a, b) => a - b)).toEqual([65, 129]);
    expect([t.size, t.take(65), t.take(129)]).toEqual([2, undefined, undefined]);
    expect(t.drain().sort((a, b) => a - b)).toEqual([1, 193]);
    expect([t.size, t.take(193)]).toEqual([0, undefined]);
  });

  it('spreads ids past 2^31', () => {
    const t = new PendingTable<number>();
    const base = 2 ** 40;
    for (let i = 0; i < 100; i++) t.set(base + i, i);
    for (let i = 99; i >= 0; i--) expect(t.take(base + i)).toBe(i);
    expect(t.take(base)).toBeUndefined();
  });

  it('removes what a predicate picks, leaves the rest, and drains what is left', () => {
    const t = new PendingTable<{ due: number }>();
    for (let id = 1; id <= 10; id++) t.set(id, { due: id });
    const expired = t.removeWhere((v) => v.due <= 3);
    expect(expired.map((v) => v.due).sort((a, b) => a - b)).toEqual([1, 2, 3]);
    expect([t.size, t.take(2), t.take(4)]).toEqual([7, undefined, { due: 4 }]);
    t.set(4, { due: 4 });
    expect(t.drain().map((v) => v.due).sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect([t.size, t.take(5)]).toEqual([0, undefined]);
    t.set(11, { due: 11 });
    expect(t.take(11)).toEqual({ due: 11 });
  });
});
