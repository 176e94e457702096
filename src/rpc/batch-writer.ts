/**
 * Most bytes one ApplyBatch or ApplyResults message carries, counting each
 * item's payload plus a fixed allowance for its fields, unless it holds a
 * single item. Nodes accept this much on top of their per-operation limit.
 */
export const APPLY_BATCH_BYTES = 1024 * 1024;

/** Most items in one message, so one batch cannot monopolize a turn. */
export const APPLY_BATCH_ITEMS = 1024;

/** Bytes counted for an item's fields besides its payload and ids. */
export const ITEM_OVERHEAD_BYTES = 32;

/**
 * Collects items and writes them as few messages as the stream allows: one
 * write in flight at a time, and whatever was added meanwhile leaves as one
 * message when that write completes. Items added in one tick go out at its
 * end (process.nextTick) when no write is in flight; a batch that would pass
 * its byte or item limit is closed and queued.
 *
 * Why: grpc-js writes one message per write callback, and the callback only
 * comes back a turn of the event loop later. Answers written message by
 * message were paced by loop turns, so while the loop was busy (a snapshot
 * flush, GC) they queued behind each other and latency grew with the queue.
 * With one write in flight, the next message carries everything that piled
 * up: the stream clocks itself, and per-message costs (framing,
 * serialization, callbacks) are paid once per batch.
 */
export class BatchWriter<T> {
  private items: T[] = [];
  private bytes = 0;
  private scheduled = false;
  /** Closed batches waiting for the write in flight. */
  private readonly closed: T[][] = [];
  private writing = false;

  /**
   * `writeBatch` writes one message and calls `written` once the stream
   * took it (a Writable's write callback).
   */
  constructor(
    private readonly writeBatch: (items: T[], written: () => void) => void,
    private readonly maxBytes = APPLY_BATCH_BYTES,
    private readonly maxItems = APPLY_BATCH_ITEMS,
  ) {}

  /** Items not yet handed to the stream. */
  get size(): number {
    let n = this.items.length;
    for (const batch of this.closed) n += batch.length;
    return n;
  }

  add(item: T, bytes: number): void {
    if (this.items.length > 0 && (this.bytes + bytes > this.maxBytes || this.items.length >= this.maxItems)) this.close();
    this.items.push(item);
    this.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => {
        this.scheduled = false;
        if (!this.writing) {
          this.close();
          this.next();
        }
      });
    }
  }

  /**
   * Hands everything to the stream now, in order, without waiting for the
   * write in flight (the stream buffers it): before ending the stream.
   */
  flush(): void {
    this.close();
    for (let batch = this.closed.shift(); batch !== undefined; batch = this.closed.shift()) this.writeBatch(batch, () => {});
  }

  /** Forgets what is collected (the stream is gone). */
  discard(): void {
    this.items = [];
    this.bytes = 0;
    this.closed.length = 0;
  }

  private close(): void {
    if (this.items.length === 0) return;
    this.closed.push(this.items);
    this.items = [];
    this.bytes = 0;
  }

  private next(): void {
    if (this.writing) return;
    if (this.closed.length === 0) this.close();
    const batch = this.closed.shift();
    if (batch === undefined) return;
    this.writing = true;
    this.writeBatch(batch, () => {
      this.writing = false;
      this.next();
    });
  }
}
