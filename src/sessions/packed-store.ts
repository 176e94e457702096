/**
 * Where a node keeps its packed sessions' bytes (see packed-record.ts):
 * appended one after another into chunks of CHUNK_BYTES allocated outside
 * the V8 heap, each record behind its 4-byte length. The engine's map holds
 * a packed session as a number, its slot: no object, no string header, no
 * page of the collector's heap per session, and nothing for the collector
 * to move or trace. docs/design-notes.md, "Packed sessions live outside the
 * heap".
 *
 * Bytes are never changed in place, so a view handed out by bytes() stays
 * right for as long as its holder keeps it, even after the record is
 * released or moved (the view keeps its chunk's memory alive).
 *
 * Space is reclaimed by whole chunks. A chunk no longer written to whose
 * records are mostly released (less than EVACUATE_BELOW of it live) is
 * marked; the engine's sweeps move each record of a marked chunk to the end
 * of the store (move()), and a chunk with nothing live left is dropped.
 */
export type PackedSlot = number;

/** Size of a chunk; a record larger than a chunk gets a chunk of its own. */
export const CHUNK_BYTES = 1 << 20;
const LENGTH_BYTES = 4;
/** A sealed chunk less full than this has its records moved out. */
const EVACUATE_BELOW = 0.5;

export interface PackedStoreStats {
  /** Records held. */
  readonly records: number;
  /** Bytes of the records held, length prefixes included. */
  readonly liveBytes: number;
  /** Bytes of the chunks allocated. */
  readonly chunkBytes: number;
  /** Chunks whose records sweeps are moving out. */
  readonly chunksToEmpty: number;
}

export class PackedStore {
  private readonly chunks: (Buffer | undefined)[] = [];
  /** Live bytes per chunk, length prefixes included. */
  private readonly live: number[] = [];
  private readonly marked = new Set<number>();
  /** Indexes of dropped chunks, for reuse. */
  private readonly spare: number[] = [];
  /** The chunk being appended to, and where. */
  private current = -1;
  private written = 0;
  private records = 0;
  private liveBytes = 0;
  private chunkBytes = 0;

  /** Copies `bytes` in; the slot names them until release() or move(). */
  add(bytes: Uint8Array): PackedSlot {
    const slot = this.reserve(bytes.length);
    this.chunkOf(slot).set(bytes, this.startOf(slot));
    return slot;
  }

  /**
   * Room for a record of `size` bytes, with its length written: the caller
   * writes its bytes in place, into writable(slot) from startOf(slot),
   * before it hands out the slot (instead of encoding into a buffer of its
   * own that add() would copy).
   */
  reserve(size: number): PackedSlot {
    const need = LENGTH_BYTES + size;
    let index: number;
    let offset: number;
    if (need > CHUNK_BYTES) {
      index = this.newChunk(need);
      offset = 0;
    } else {
      if (this.current < 0 || this.written + need > CHUNK_BYTES) this.startChunk();
      index = this.current;
      offset = this.written;
      this.written += need;
    }
    (this.chunks[index] as Buffer).writeUInt32LE(size, offset);
    this.live[index] = (this.live[index] as number) + need;
    this.records += 1;
    this.liveBytes += need;
    return index * CHUNK_BYTES + offset;
  }

  /** The chunk a reserved slot's bytes go into, from startOf(slot). */
  writable(slot: PackedSlot): Buffer {
    return this.chunkOf(slot);
  }

  /** Where a slot's bytes start in its chunk (after their length). */
  startOf(slot: PackedSlot): number {
    return (slot % CHUNK_BYTES) + LENGTH_BYTES;
  }

  /** The record's bytes: a view that stays right whatever happens to the slot later. */
  bytes(slot: PackedSlot): Buffer {
    const chunk = this.chunkOf(slot);
    const start = this.startOf(slot);
    return chunk.subarray(start, start + chunk.readUInt32LE(start - LENGTH_BYTES));
  }

  /** The record's length in bytes, read without making a view. */
  sizeOf(slot: PackedSlot): number {
    return this.chunkOf(slot).readUInt32LE(slot % CHUNK_BYTES);
  }

  /** Forgets the record; its space comes back with its chunk's. Returns the record's length in bytes. */
  release(slot: PackedSlot): number {
    const index = Math.floor(slot / CHUNK_BYTES);
    const size = this.sizeOf(slot);
    const freed = LENGTH_BYTES + size;
    const live = (this.live[index] as number) - freed;
    this.live[index] = live;
    this.records -= 1;
    this.liveBytes -= freed;
    if (index !== this.current) {
      if (live === 0) this.dropChunk(index);
      else if (live < (this.chunks[index] as Buffer).length * EVACUATE_BELOW) this.marked.add(index);
    }
    return size;
  }

  /** Whether sweeps should move this record (its chunk is being emptied). */
  shouldMove(slot: PackedSlot): boolean {
    return this.marked.size > 0 && this.marked.has(Math.floor(slot / CHUNK_BYTES));
  }

  /** Whether any chunk is being emptied. */
  hasChunksToEmpty(): boolean {
    return this.marked.size > 0;
  }

  /** Copies the record to the end of the store and releases the old slot; returns the new one. */
  move(slot: PackedSlot): PackedSlot {
    const moved = this.add(this.bytes(slot));
    this.release(slot);
    return moved;
  }

  stats(): PackedStoreStats {
    return { records: this.records, liveBytes: this.liveBytes, chunkBytes: this.chunkBytes, chunksToEmpty: this.marked.size };
  }

  private chunkOf(slot: PackedSlot): Buffer {
    const chunk = this.chunks[Math.floor(slot / CHUNK_BYTES)];
    if (chunk === undefined) throw new Error(`packed slot ${slot} names a dropped chunk`);
    return chunk;
  }

  private startChunk(): void {
    const sealed = this.current;
    this.current = this.newChunk(CHUNK_BYTES);
    this.written = 0;
    if (sealed < 0) return;
    const live = this.live[sealed] as number;
    if (live === 0) this.dropChunk(sealed);
    else if (live < CHUNK_BYTES * EVACUATE_BELOW) this.marked.add(sealed);
  }

  private newChunk(size: number): number {
    const index = this.spare.pop() ?? this.chunks.length;
    // Outside the V8 heap, and not from Node's shared pool.
    this.chunks[index] = Buffer.allocUnsafeSlow(size);
    this.live[index] = 0;
    this.chunkBytes += size;
    return index;
  }

  private dropChunk(index: number): void {
    this.chunkBytes -= (this.chunks[index] as Buffer).length;
    this.chunks[index] = undefined;
    this.marked.delete(index);
    this.spare.push(index);
  }
}
