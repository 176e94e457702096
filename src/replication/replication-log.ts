import { randomUUID } from 'node:crypto';
import { PackedStore } from '../sessions/packed-store.js';

/**
 * How the log encodes a change of type T with the offset it gets (a
 * baton.v1.SessionRecord carrying it): measured first, then written
 * straight into the backlog's store, with no buffer of its own.
 */
export interface ChangeEncoder<T> {
  /** Bytes of `change` encoded with `offset`. */
  measure(change: T, offset: number): number;
  /** Writes the change measure() just measured, `size` bytes, at `pos` of `buf`. */
  write(buf: Buffer, pos: number, size: number): void;
}

/**
 * The owner's replication log: every change of a session it owns gets the
 * next offset. The newest changes stay in a byte-bounded backlog so a replica
 * that reconnects can resume from its offset (partial resync), as Redis does
 * with PSYNC: replication id + offset + backlog.
 *
 * The backlog holds each change encoded, as it goes on the wire, in a
 * PackedStore outside the V8 heap: one copy of bytes per change and two
 * numbers, instead of a record object, its arrays and buffers that live
 * just long enough to be promoted and then die in old space (at 36 000
 * changes a second, a 16 MiB backlog turns over every second or two).
 * docs/design-notes.md, "The backlog is kept encoded".
 */
export class ReplicationLog<T> {
  /** Changes with a new id whenever offsets restart (every process start). */
  readonly replicationId = randomUUID();
  private readonly store = new PackedStore();
  /** Per change kept, oldest first from `head`: its slot in the store, and when it was appended. */
  private slots: number[] = [];
  private atMs: number[] = [];
  private head = 0;
  private bytes = 0;
  private last = 0;
  private readonly listeners = new Set<() => void>();

  /** `backlogBytes` 0 keeps nothing: changes are numbered, never encoded (a node with no peer). */
  constructor(
    private readonly backlogBytes: number,
    private readonly encoder: ChangeEncoder<T>,
  ) {}

  get offset(): number {
    return this.last;
  }

  /** Bytes of the encoded changes kept. */
  get backlogSize(): number {
    return this.bytes;
  }

  /** Lowest offset a replica may hold to resume from the backlog. */
  get firstResumableOffset(): number {
    return this.last - (this.slots.length - this.head);
  }

  /**
   * Gives `change` the next offset and keeps it encoded in the backlog;
   * returns the offset. A change the encoder cannot write throws and takes
   * no offset and no room, so the offsets kept stay consecutive.
   */
  append(change: T): number {
    const offset = this.last + 1;
    if (this.backlogBytes > 0) {
      const size = this.encoder.measure(change, offset);
      const slot = this.store.reserve(size);
      try {
        this.encoder.write(this.store.writable(slot), this.store.startOf(slot), size);
      } catch (err) {
        this.store.release(slot);
        throw err;
      }
      this.slots.push(slot);
      this.atMs.push(Date.now());
      this.bytes += size;
      // The newest change stays, however large.
      while (this.bytes > this.backlogBytes && this.head < this.slots.length - 1) this.drop();
      if (this.head > 1024 && this.head * 2 > this.slots.length) {
        this.slots = this.slots.slice(this.head);
        this.atMs = this.atMs.slice(this.head);
        this.head = 0;
      }
    }
    this.last = offset;
    for (const listener of this.listeners) listener();
    return this.last;
  }

  /** True when a replica at `offset` of `replicationId` can resume from the backlog. */
  canResume(replicationId: string, offset: number): boolean {
    return replicationId === this.replicationId && offset >= this.firstResumableOffset && offset <= this.last;
  }

  /** Up to `max` changes after `offset`, encoded; views that stay right after they leave the backlog. */
  readAfter(offset: number, max: number): Buffer[] {
    if (offset >= this.last) return [];
    const start = this.head + Math.max(0, offset - this.firstResumableOffset);
    const end = Math.min(this.slots.length, start + max);
    const out: Buffer[] = [];
    for (let i = start; i < end; i++) out.push(this.store.bytes(this.slots[i] as number));
    return out;
  }

  /** Bytes and age of the changes after `offset` still in the backlog (replica lag). */
  lagAfter(offset: number): { records: number; bytes: number; ms: number } {
    if (offset >= this.last) return { records: 0, bytes: 0, ms: 0 };
    const start = this.head + Math.max(0, offset - this.firstResumableOffset);
    let bytes = 0;
    for (let i = start; i < this.slots.length; i++) bytes += this.store.sizeOf(this.slots[i] as number);
    const oldest = this.atMs[start];
    return { records: this.last - offset, bytes, ms: oldest === undefined ? 0 : Date.now() - oldest };
  }

  /** Calls `listener` after every append; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lets the oldest change kept go. */
  private drop(): void {
    this.bytes -= this.store.release(this.slots[this.head] as number);
    this.head += 1;
  }
}
