import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../../src/rpc/batch-writer.js';

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A writer whose writes complete when the test says so, as a stream's do. */
function stream<T>(maxBytes?: number, maxItems?: number) {
  const batches: T[][] = [];
  const pending: (() => void)[] = [];
  const writer = new BatchWriter<T>(
    (items, written) => {
      batches.push(items);
      pending.push(written);
    },
    maxBytes,
    maxItems,
  );
  /** Completes the writes in flight now (not those they start). */
  const complete = (): void => {
    for (const done of pending.splice(0)) done();
  };
  return { writer, batches, complete, pending };
}

describe('BatchWriter', () => {
  it('writes the items added in one tick as one batch, at the end of the tick', async () => {
    const { writer, batches, complete } = stream<number>();
    for (let i = 0; i < 5; i++) writer.add(i, 10);
    expect(batches).toEqual([]);
    await nextTick();
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    complete();
    writer.add(5, 10);
    await nextTick();
    expect(batches).toEqual([[0, 1, 2, 3, 4], [5]]);
  });

  it('keeps one write in flight and sends what piled up meanwhile as one batch', async () => {
    const { writer, batches, complete, pending } = stream<number>();
    writer.add(1, 1);
    await nextTick();
    // Three more ticks' worth while the first write is in flight.
    for (const i of [2, 3, 4]) {
      writer.add(i, 1);
      await turn();
    }
    expect(batches).toEqual([[1]]);
    expect(writer.size).toBe(3);
    complete();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(pending).toHaveLength(1);
    complete();
    await turn();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(writer.size).toBe(0);
  });

  it('coalesces items added by promise callbacks settling together', async () => {
    const { writer, batches } = stream<number>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waits = [1, 2, 3].map((i) => gate.then(() => writer.add(i, 1)));
    release();
    await Promise.all(waits);
    await nextTick();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('closes a batch before it would pass the byte or item limit', async () => {
    const bySize = stream<string>(100, 1000);
    bySize.writer.add('a', 60);
    bySize.writer.add('b', 30);
    bySize.writer.add('c', 20); // 110 > 100: a and b make one batch
    await nextTick();
    expect(bySize.batches).toEqual([['a', 'b']]);
    bySize.complete();
    expect(bySize.batches).toEqual([['a', 'b'], ['c']]);

    const byCount = stream<string>(1_000_000, 2);
    for (const item of ['a', 'b', 'c', 'd', 'e']) byCount.writer.add(item, 1);
    await nextTick();
    for (let i = 0; i < 3; i++) byCount.complete();
    expect(byCount.batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('sends an item larger than the limit on its own', async () => {
    const { writer, batches, complete } = stream<string>(100, 1000);
    writer.add('small', 10);
    writer.add('huge', 500);
    writer.add('after', 10);
    await nextTick();
    complete();
    complete();
    expect(batches).toEqual([['small'], ['huge'], ['after']]);
  });

  it('flush hands everything over at once, even with a write in flight; discard drops it', async () => {
    const { writer, batches } = stream<number>(1_000_000, 2);
    writer.add(1, 1);
    await nextTick();
    for (const i of [2, 3, 4]) writer.add(i, 1);
    writer.flush();
    expect(batches).toEqual([[1], [2, 3], [4]]);
    writer.add(5, 1);
    writer.discard();
    expect(writer.size).toBe(0);
    await nextTick();
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });
});
