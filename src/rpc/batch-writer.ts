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
 * Collects the items written in one turn of the event loop and writes them
 * as one message at the end of the current tick, or at once when the next
 * item would take the batch past its byte or item limit.
 *
 * Why: grpc-js writes one message per write callback, so a stream answering
 * message by message is paced by loop turns; while the loop is busy (a
 * snapshot flush, GC) answers queue behind each other and latency grows with
 * the queue. Items issued together leave together, and per-message costs
 * (framing, serialization, callbacks) are paid once per batch.
 */
export class BatchWriter<T> {
  private items: T[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly writeBatch: (items: T[]) => void,
    private readonly maxBytes = APPLY_BATCH_BYTES,
    private readonly maxItems = APPLY_BATCH_ITEMS,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(item: T, bytes: number): void {
    if (this.items.length > 0 && (this.bytes + bytes > this.maxBytes || this.items.length >= this.maxItems)) this.flush();
    this.items.push(item);
    this.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is collected now. */
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    this.writeBatch(items);
  }

  /** Forgets what is collected (the stream is gone). */
  discard(): void {
    this.items = [];
    this.bytes = 0;
  }
}
