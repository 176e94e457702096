import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, PackedStore } from '../../src/sessions/packed-store.js';

/** `length` bytes, all `fill`: easy to tell apart. */
const bytesOf = (length: number, fill: number): Buffer => Buffer.alloc(length, fill);
/** How many records of `length` bytes fit a chunk, length prefixes included. */
const perChunk = (length: number): number => Math.floor(CHUNK_BYTES / (4 + length));

describe('the packed store', () => {
  it('gives back each record as it was added', () => {
    const store = new PackedStore();
    const slots = [bytesOf(0, 0), bytesOf(1, 1), bytesOf(300, 2), bytesOf(5, 3)].map((b) => store.add(b));
    expect(slots.map((s) => [...store.bytes(s).subarray(0, 2)])).toEqual([[], [1], [2, 2], [3, 3]]);
    expect(slots.map((s) => store.bytes(s).length)).toEqual([0, 1, 300, 5]);
    expect(store.stats()).toEqual({ records: 4, liveBytes: 4 * 4 + 306, chunkBytes: CHUNK_BYTES, chunksToEmpty: 0 });
  });

  it('reserves room that is written in place, between records added as copies', () => {
    const store = new PackedStore();
    const before = store.add(bytesOf(3, 1));
    const reserved = store.reserve(4);
    store.writable(reserved).write('abcd', store.startOf(reserved), 'latin1');
    const after = store.add(bytesOf(2, 9));
    expect([store.bytes(before), store.bytes(reserved), store.bytes(after)].map((b) => b.toString('hex'))).toEqual(['010101', '61626364', '0909']);
    expect(store.stats()).toMatchObject({ records: 3, liveBytes: 3 * 4 + 9 });
    expect(store.release(reserved)).toBe(4);
  });

  it('starts a chunk when a record does not fit, and gives a record larger than a chunk its own', () => {
    const store = new PackedStore();
    const n = perChunk(1000);
    const slots = Array.from({ length: n + 1 }, (_, i) => store.add(bytesOf(1000, i % 251)));
    expect(store.stats().chunkBytes).toBe(2 * CHUNK_BYTES);
    const large = store.add(bytesOf(CHUNK_BYTES + 10, 7));
    expect(store.stats().chunkBytes).toBe(3 * CHUNK_BYTES + 14);
    expect(store.bytes(large).length).toBe(CHUNK_BYTES + 10);
    expect(slots.every((s, i) => store.bytes(s).every((b) => b === i % 251))).toBe(true);
    store.release(large);
    expect(store.stats()).toMatchObject({ chunkBytes: 2 * CHUNK_BYTES, records: n + 1 });
  });

  it('drops a chunk once everything in it is released, and reuses its place', () => {
    const store = new PackedStore();
    const first = Array.from({ length: perChunk(1000) }, () => store.add(bytesOf(1000, 1)));
    const next = store.add(bytesOf(1000, 2));
    for (const s of first) store.release(s);
    expect(store.stats()).toEqual({ records: 1, liveBytes: 1004, chunkBytes: CHUNK_BYTES, chunksToEmpty: 0 });
    // Fill the current chunk so that a third starts in the first one's place.
    const more = Array.from({ length: perChunk(1000) }, () => store.add(bytesOf(1000, 3)));
    expect(store.stats().chunkBytes).toBe(2 * CHUNK_BYTES);
    expect([store.bytes(next)[0], store.bytes(more.at(-1) as number)[0]]).toEqual([2, 3]);
  });

  it('marks a sealed chunk less than half live, and move() empties it without changing a byte', () => {
    const store = new PackedStore();
    const n = perChunk(1000);
    const first = Array.from({ length: n }, (_, i) => store.add(bytesOf(1000, i % 200)));
    store.add(bytesOf(1000, 255)); // seals the first chunk
    const keep = first.filter((_, i) => i % 3 === 0);
    for (const s of first.filter((_, i) => i % 3 !== 0)) store.release(s);
    expect(store.stats().chunksToEmpty).toBe(1);
    expect(keep.every((s) => store.shouldMove(s))).toBe(true);
    const before = keep.map((s) => Buffer.from(store.bytes(s)));
    const viewOfOld = store.bytes(keep[0] as number);
    const moved = keep.map((s) => store.move(s));
    // The first chunk is gone; the second holds everything.
    expect(store.stats()).toMatchObject({ chunksToEmpty: 0, records: keep.length + 1, chunkBytes: CHUNK_BYTES });
    expect(moved.some((s) => store.shouldMove(s))).toBe(false);
    expect(moved.every((s, i) => store.bytes(s).equals(before[i] as Buffer))).toBe(true);
    // A view taken before the move still reads the record it was taken of.
    expect(viewOfOld.equals(before[0] as Buffer)).toBe(true);
  });

  it('does not mark the chunk it is writing, however little of it is live', () => {
    const store = new PackedStore();
    const a = store.add(bytesOf(100, 1));
    store.add(bytesOf(100, 2));
    store.release(a);
    expect(store.stats().chunksToEmpty).toBe(0);
    expect(store.hasChunksToEmpty()).toBe(false);
  });
});
