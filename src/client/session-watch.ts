import { status } from '@grpc/grpc-js';
import type { WatchEvent__Output } from '../generated/baton/v1/WatchEvent.js';
import type { RemoteError } from '../rpc/status-mapper.js';
import { decodeValue } from './payload-codec.js';
import { toSnapshot } from './session-snapshot.js';
import type { SessionSnapshot } from './session-snapshot.js';

export interface WatchEventView<S = unknown, R = unknown> {
  readonly kind: 'snapshot' | 'change' | 'closed';
  readonly session: SessionSnapshot<S>;
  /** change/closed: the operation id that caused it. */
  readonly opId?: string;
  /** change: the operation's reply. */
  readonly reply?: R;
  /** change: set when a timer fired. */
  readonly timerId?: string;
}

/** Opens one watch call; resolves with its cancel function once the first event arrived. */
export type WatchConnector = (
  onEvent: (event: WatchEvent__Output) => void,
  onError: (err: RemoteError) => void,
  onEnd: () => void,
) => Promise<() => void>;

/**
 * A session's change stream as an async iterable. Ends after the "closed"
 * event or cancel(); throws when the watch fails for good. After a transient
 * failure it reconnects and yields a fresh snapshot.
 */
export class SessionWatch<S = unknown, R = unknown> implements AsyncIterable<WatchEventView<S, R>> {
  private readonly queue: WatchEventView<S, R>[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private done = false;
  private cancelCall: (() => void) | undefined;

  constructor(
    readonly sessionId: string,
    private readonly connect: WatchConnector,
  ) {
    this.start();
  }

  /** Stops watching; the iterator ends. */
  cancel(): void {
    this.done = true;
    this.cancelCall?.();
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEventView<S, R>> {
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.done) return;
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
      }
    } finally {
      if (!this.done) this.cancel();
    }
  }

  private start(): void {
    this.connect(
      (event) => this.push(event),
      (err) => {
        if (err.grpcCode === status.UNAVAILABLE && !this.done) this.start();
        else this.fail(err);
      },
      () => {
        if (!this.done) this.start();
      },
    ).then(
      (cancel) => {
        this.cancelCall = cancel;
        if (this.done) cancel();
      },
      (err: Error) => this.fail(err),
    );
  }

  private push(event: WatchEvent__Output): void {
    if (this.done) return;
    const kind = event.kind === 'SNAPSHOT' ? 'snapshot' : event.kind === 'CLOSED' ? 'closed' : 'change';
    const view: WatchEventView<S, R> = {
      kind,
      session: toSnapshot<S>(event.session),
      ...(event.opId !== '' ? { opId: event.opId } : {}),
      ...(kind === 'change' ? { reply: decodeValue(event.reply) as R } : {}),
      ...(event.timerId !== '' ? { timerId: event.timerId } : {}),
    };
    this.queue.push(view);
    if (kind === 'closed') this.done = true;
    this.wake();
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.failure = err;
    this.done = true;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
