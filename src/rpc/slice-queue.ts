import { Fifo } from '../fifo.js';

/** Fewest requests one apply stream runs per turn of the event loop. */
export const APPLY_SLICE = 16;
/** Each turn runs at least this share of what is queued. */
const SHARE_PER_TURN = 4;

/**
 * A FIFO that runs its items a slice per turn of the event loop: the first
 * slice at once, the rest after a setImmediate each. A slice is a quarter
 * of what is queued, and at least `slice` items.
 *
 * Why: an ApplyBatch of many operations applied in one go answers all of
 * them at the end, and only then does anything leave: the answers, and the
 * records the replica must acknowledge. Client, node and replica then take
 * turns on one wave of operations and each waits while the others work.
 * Sliced, the answers and records of the first slice leave while the next
 * is applied, so the three overlap on the machine's cores; and one large
 * batch cannot hold the event loop from other streams, timers and acks.
 * Slices grow with the queue so that a backlog (built up while a snapshot
 * flush shared the loop, say) clears in a few turns: fixed slices of 16
 * fell behind the arrival rate and doubled the open-loop p99.
 * See docs/design-notes.md ("Apply streams run in slices").
 */
export class SliceQueue<T> {
  /** The arrays pushed, in order; the oldest is run from `at`. */
  private readonly batches = new Fifo<(T | undefined)[]>();
  private at = 0;
  private queued = 0;
  private scheduled = false;
  private cleared = false;

  /** `run` must not throw; `onDrained` is called each time the queue empties. */
  constructor(
    private readonly run: (item: T) => void,
    private readonly onDrained: () => void,
    private readonly slice = APPLY_SLICE,
  ) {}

  /** Items not yet run. */
  get size(): number {
    return this.queued;
  }

  /**
   * Queues `items` as they are, without copying them: the queue takes the
   * array over, and empties its slots as it runs them.
   */
  push(items: T[]): void {
    if (this.cleared || items.length === 0) return;
    this.batches.push(items);
    this.queued += items.length;
    if (!this.scheduled) this.drain();
  }

  /** Forgets every item not yet run, for good (the stream is gone). */
  clear(): void {
    this.cleared = true;
    this.batches.clear();
    this.at = this.queued = 0;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.cleared) return;
    let left = Math.min(this.queued, Math.max(this.slice, Math.ceil(this.queued / SHARE_PER_TURN)));
    while (left > 0) {
      const batch = this.batches.peek() as (T | undefined)[];
      const item = batch[this.at] as T;
      // Released at once: a long queue does not pin what it has run.
      batch[this.at] = undefined;
      this.queued -= 1;
      left -= 1;
      if (++this.at === batch.length) {
        this.batches.shift();
        this.at = 0;
      }
      this.run(item);
      if (this.cleared) return;
    }
    if (this.queued > 0) {
      this.scheduled = true;
      setImmediate(this.drain);
      return;
    }
    this.onDrained();
  };
}
