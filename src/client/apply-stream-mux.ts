import { status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { ApplyBatch } from '../generated/baton/v1/ApplyBatch.js';
import type { ApplyRequest } from '../generated/baton/v1/ApplyRequest.js';
import type { ApplyResponse__Output } from '../generated/baton/v1/ApplyResponse.js';
import type { ApplyResults__Output } from '../generated/baton/v1/ApplyResults.js';
import type { SessionServiceClient } from '../generated/baton/v1/SessionService.js';
import { BatchWriter, ITEM_OVERHEAD_BYTES } from '../rpc/batch-writer.js';
import { fromErrorDetail, fromServiceError, RemoteError } from '../rpc/status-mapper.js';
import { PendingTable } from './pending-table.js';

interface Pending {
  resolve(response: ApplyResponse__Output): void;
  reject(err: RemoteError): void;
  /** When the attempt gives up (ms since the epoch). */
  deadlineAtMs: number;
  timeoutMs: number;
}

/**
 * How often a stream looks for operations past their attempt timeout: one
 * sweep per stream instead of a timer per operation, at the cost of
 * timeouts firing up to this much late.
 */
const SWEEP_MS = 25;

/** One ApplyStream call and the operations waiting for an answer on it. */
class StreamHandle {
  readonly pending = new PendingTable<Pending>();
  closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  /**
   * No pending operation gives up before this (ms since the epoch): a
   * lower bound, lowered as operations are added and made exact by each
   * sweep that looks. A sweep before it looks at nothing, so a stream with
   * thousands of operations in flight does not walk them all every
   * SWEEP_MS: that walk grew with the backlog it was part of.
   */
  private earliestDeadlineAtMs = Infinity;
  /** Operations issued in this tick, sent as one ApplyBatch at its end. */
  private readonly outbox: BatchWriter<ApplyRequest>;

  constructor(
    readonly call: ClientDuplexStream<ApplyBatch, ApplyResults__Output>,
    private readonly address: string,
    onGone: (handle: StreamHandle) => void,
  ) {
    this.outbox = new BatchWriter((requests, written) => call.write({ requests }, written));
    call.on('data', (results: ApplyResults__Output) => {
      for (const response of results.responses) this.answered(response, onGone);
    });
    const fail = (err: RemoteError): void => {
      this.closed = true;
      this.stopSweeping();
      this.outbox.discard();
      const orphans = this.pending.drain();
      onGone(this);
      for (const entry of orphans) entry.reject(err);
    };
    call.on('error', (err: ServiceError) => fail(fromServiceError(err, address)));
    call.on('end', () =>
      fail(new RemoteError('ERR_UNAVAILABLE', `apply stream to ${address} ended before answering`, status.UNAVAILABLE, undefined, undefined)),
    );
  }

  halfClose(onGone: (handle: StreamHandle) => void): void {
    if (this.closed) return;
    this.closed = true;
    onGone(this);
    // What was issued before the close still goes out: the node answers it.
    this.outbox.flush();
    this.call.end();
  }

  /** Queues an operation for this tick's batch; its answer settles `entry`. */
  send(request: ApplyRequest & { correlationId: number }, entry: Pending): void {
    this.pending.set(request.correlationId, entry);
    if (entry.deadlineAtMs < this.earliestDeadlineAtMs) this.earliestDeadlineAtMs = entry.deadlineAtMs;
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    const { sessionId = '', opId = '', op } = request;
    const bytes = ITEM_OVERHEAD_BYTES + sessionId.length + opId.length + (op?.data?.length ?? 0) + (op?.contentType?.length ?? 0);
    this.outbox.add(request, bytes);
  }

  private answered(response: ApplyResponse__Output, onGone: (handle: StreamHandle) => void): void {
    const entry = this.pending.take(response.correlationId);
    if (entry === undefined) return; // timed out already
    if (response.error === null) {
      entry.resolve(response);
      return;
    }
    const err = fromErrorDetail(response.error);
    // The node is stopping: stop sending here and half-close, so it can
    // answer what it has read and end the stream cleanly.
    if (err.code === 'ERR_NODE_STOPPING') this.halfClose(onGone);
    entry.reject(err);
  }

  cancel(): void {
    this.closed = true;
    this.stopSweeping();
    this.outbox.discard();
    this.call.cancel();
  }

  private sweep(): void {
    // Nothing in flight: stop at once, so the timer does not keep an idle process alive.
    if (this.pending.size === 0) {
      this.earliestDeadlineAtMs = Infinity;
      this.stopSweeping();
      return;
    }
    const now = Date.now();
    if (now < this.earliestDeadlineAtMs) return;
    let earliest = Infinity;
    const expired = this.pending.removeWhere((entry) => {
      if (entry.deadlineAtMs <= now) return true;
      if (entry.deadlineAtMs < earliest) earliest = entry.deadlineAtMs;
      return false;
    });
    this.earliestDeadlineAtMs = earliest;
    for (const entry of expired) {
      entry.reject(
        new RemoteError(
          'ERR_DEADLINE_EXCEEDED',
          `no answer from ${this.address} within ${entry.timeoutMs} ms`,
          status.DEADLINE_EXCEEDED,
          undefined,
          undefined,
        ),
      );
    }
    if (this.pending.size === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/**
 * Multiplexes operations for one node over a single ApplyStream, matching
 * answers by correlation id (they may arrive out of order). Operations
 * issued in the same tick travel in one ApplyBatch. A broken stream
 * fails its pending operations with a retryable error; the next operation
 * opens a new stream.
 */
export class ApplyStreamMux {
  private current: StreamHandle | undefined;
  private readonly handles = new Set<StreamHandle>();
  private nextId = 1;

  constructor(
    private readonly client: SessionServiceClient,
    private readonly address: string,
  ) {}

  send(request: Omit<ApplyRequest, 'correlationId'>, timeoutMs: number): Promise<ApplyResponse__Output> {
    const handle = this.handle();
    const correlationId = this.nextId++;
    return new Promise<ApplyResponse__Output>((resolve, reject) => {
      const { sessionId, opId, op } = request;
      handle.send({ sessionId, opId, op, correlationId }, { resolve, reject, deadlineAtMs: Date.now() + timeoutMs, timeoutMs });
    });
  }

  close(): void {
    for (const handle of this.handles) handle.cancel();
    this.handles.clear();
    this.current = undefined;
  }

  private handle(): StreamHandle {
    if (this.current !== undefined && !this.current.closed) return this.current;
    const handle = new StreamHandle(this.client.ApplyStream(), this.address, (gone) => {
      if (this.current === gone) this.current = undefined;
      if (gone.pending.size === 0) this.handles.delete(gone);
    });
    this.handles.add(handle);
    this.current = handle;
    return handle;
  }
}
