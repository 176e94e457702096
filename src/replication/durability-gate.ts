import { NoReplicaError } from '../errors.js';
import { Fifo } from '../fifo.js';

export type Durability = 'sync' | 'async';

/** Called once a change may be answered (null), or with why it may not. */
export type Confirmed = (err: Error | null) => void;

interface Waiter {
  readonly offset: number;
  readonly done: Confirmed;
}

/**
 * Decides when a committed change may be acknowledged to its client.
 *
 * - async: at once (the loss window is what the replica has not acked yet).
 * - sync: once the attached replica acked the change's offset. Acks carry
 *   the highest offset stored, so one ack releases every waiter at or below
 *   it: that is the group commit.
 * - no replica attached ("solo"): at once, unless minReplicas is 1, in which
 *   case writes are refused before they are applied.
 */
export class DurabilityGate {
  private attached = false;
  private acked = 0;
  private readonly waiters = new Fifo<Waiter>();

  constructor(
    readonly durability: Durability,
    readonly minReplicas: 0 | 1,
  ) {}

  get replicaAttached(): boolean {
    return this.attached;
  }

  get ackedOffset(): number {
    return this.acked;
  }

  get pending(): number {
    return this.waiters.size;
  }

  /** Throws before anything is applied when a write could not be confirmed. */
  checkWritable(): void {
    if (this.minReplicas === 1 && !this.attached) {
      throw new NoReplicaError(
        'writes are refused: no replica is attached and --min-replicas is 1; retry when the peer is back, or lower --min-replicas',
      );
    }
  }

  /**
   * Calls `done` once the change at `offset` may be acknowledged: at once
   * (before returning) when it may be now, otherwise when the replica acks
   * it or detaches. A callback rather than a promise: under sync
   * replication this runs for every operation, and a promise, its reaction
   * and their closures were the gate's whole cost.
   */
  confirm(offset: number, done: Confirmed): void {
    if (this.durability === 'async' || offset <= this.acked) {
      done(null);
      return;
    }
    if (!this.attached) {
      done(this.minReplicas === 0 ? null : new NoReplicaError('the replica detached before confirming this change; retry with the same operation id'));
      return;
    }
    this.waiters.push({ offset, done });
  }

  /** A replica is streaming and has stored everything up to `ackedOffset`. */
  attach(ackedOffset: number): void {
    this.attached = true;
    this.onAck(ackedOffset);
  }

  onAck(offset: number): void {
    if (offset > this.acked) this.acked = offset;
    for (let waiter = this.waiters.peek(); waiter !== undefined && waiter.offset <= this.acked; waiter = this.waiters.peek()) {
      this.waiters.shift();
      waiter.done(null);
    }
  }

  /** The replica is gone: waiters are released as solo (or refused under --min-replicas 1). */
  detach(reason: string): void {
    this.attached = false;
    for (const waiter of this.waiters.clear()) {
      waiter.done(this.minReplicas === 0 ? null : new NoReplicaError(`the replica detached (${reason}) before confirming this change; retry with the same operation id`));
    }
  }
}
