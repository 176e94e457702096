import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/rpc/batch-writer.js';

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('BatchWriter', () => {
  it('writes the items added in one tick as one batch, at the end of the tick', async () => {
    const batches: number[][] = [];
    const writer = new BatchWriter<number>((items) => batches.push(items));
    for (let i = 0; i < 5; i++) writer.add(i, 10);
    expect(batches).toEqual([]);
    await nextTick();
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    writer.add(5, 10);
    await nextTick();
    expect(batches).toEqual([[0, 1, 2, 3, 4], [5]]);
  });

  it('coalesces items added by promise callbacks settling together', async () => {
    const batches: number[][] = [];
    const writer = new BatchWriter<number>((items) => batches.push(items));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waits = [1, 2, 3].map((i) => gate.then(() => writer.add(i, 1)));
    release();
    await Promise.all(waits);
    await nextTick();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch before one would pass the byte or item limit', async () => {
    const batches: string[][] = [];
    const bySize = new BatchWriter<string>((items) => batches.push(items), 100, 1000);
    bySize.add('a', 60);
    bySize.add('b', 30);
    bySize.add('c', 20); // 110 > 100: a and b leave first
    expect(batches).toEqual([['a', 'b']]);
    await nextTick();
    expect(batches).toEqual([['a', 'b'], ['c']]);

    batches.length = 0;
    const byCount = new BatchWriter<string>((items) => batches.push(items), 1_000_000, 2);
    for (const item of ['a', 'b', 'c', 'd', 'e']) byCount.add(item, 1);
    await nextTick();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('sends an item larger than the limit on its own', async () => {
    const batches: string[][] = [];
    const writer = new BatchWriter<string>((items) => batches.push(items), 100, 1000);
    writer.add('small', 10);
    writer.add('huge', 500);
    writer.add('after', 10);
    await nextTick();
    expect(batches).toEqual([['small'], ['huge'], ['after']]);
  });

  it('flush writes at once; discard drops what is collected', async () => {
    const batches: number[][] = [];
    const writer = new BatchWriter<number>((items) => batches.push(items));
    writer.add(1, 1);
    writer.flush();
    expect(batches).toEqual([[1]]);
    writer.add(2, 1);
    writer.discard();
    expect(writer.size).toBe(0);
    await nextTick();
    expect(batches).toEqual([[1]]);
  });
});
