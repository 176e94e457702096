import { randomUUID } from 'node:crypto';
import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import { wireSize } from './record-codec.js';

interface Entry {
  readonly offset: number;
  readonly record: WireRecord;
  readonly bytes: number;
  readonly atMs: number;
}

/**
 * The owner's replication log: every change of a session it owns gets the
 * next offset. The newest changes stay in a byte-bounded backlog so a replica
 * that reconnects can resume from its offset (partial resync), as Redis does
 * with PSYNC: replication id + offset + backlog.
 */
export class ReplicationLog {
  /** Changes with a new id whenever offsets restart (every process start). */
  readonly replicationId = randomUUID();
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;
  private last = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly backlogBytes: number,
    startOffset = 0,
  ) {
    this.last = startOffset;
  }

  get offset(): number {
    return this.last;
  }

  get backlogSize(): number {
    return this.bytes;
  }

  /** Lowest offset a replica may hold to resume from the backlog. */
  get firstResumableOffset(): number {
    const first = this.entries[this.head];
    return first === undefined ? this.last : first.offset - 1;
  }

  append(record: WireRecord): number {
    this.last += 1;
    record.offset = this.last;
    const bytes = wireSize(record);
    this.entries.push({ offset: this.last, record, bytes, atMs: Date.now() });
    this.bytes += bytes;
    while (this.bytes > this.backlogBytes && this.head < this.entries.length - 1) {
      this.bytes -= (this.entries[this.head] as Entry).bytes;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    for (const listener of this.listeners) listener();
    return this.last;
  }

  /** True when a replica at `offset` of `replicationId` can resume from the backlog. */
  canResume(replicationId: string, offset: number): boolean {
    return replicationId === this.replicationId && offset >= this.firstResumableOffset && offset <= this.last;
  }

  /** Records after `offset`, at most `max` of them. */
  readAfter(offset: number, max: number): WireRecord[] {
    const first = this.entries[this.head];
    if (first === undefined || offset >= this.last) return [];
    const start = this.head + Math.max(0, offset + 1 - first.offset);
    return this.entries.slice(start, start + max).map((e) => e.record);
  }

  /** Bytes and age of the records after `offset` still in the backlog (replica lag). */
  lagAfter(offset: number): { records: number; bytes: number; ms: number } {
    const first = this.entries[this.head];
    if (first === undefined || offset >= this.last) return { records: 0, bytes: 0, ms: 0 };
    const start = this.head + Math.max(0, offset + 1 - first.offset);
    let bytes = 0;
    for (let i = start; i < this.entries.length; i++) bytes += (this.entries[i] as Entry).bytes;
    const oldest = this.entries[start];
    return { records: this.last - offset, bytes, ms: oldest === undefined ? 0 : Date.now() - oldest.atMs };
  }

  /** Calls `listener` after every append; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
