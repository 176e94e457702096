import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { BatonError, NodeStoppingError } from '../errors.js';
import { EMPTY_BYTES } from '../sessions/owned-bytes.js';
import type { HandlerRegistry } from '../sessions/handler-registry.js';
import type { EngineEvent, Payload, SessionEngine } from '../sessions/session-engine.js';
import { fromByteString } from '../sessions/session-record.js';
import type { ApplyBatch__Output } from '../generated/baton/v1/ApplyBatch.js';
import type { ApplyRequest__Output } from '../generated/baton/v1/ApplyRequest.js';
import type { ApplyResponse } from '../generated/baton/v1/ApplyResponse.js';
import type { ApplyResults } from '../generated/baton/v1/ApplyResults.js';
import type { CloseRequest__Output } from '../generated/baton/v1/CloseRequest.js';
import type { CloseResponse } from '../generated/baton/v1/CloseResponse.js';
import type { GetRequest__Output } from '../generated/baton/v1/GetRequest.js';
import type { GetResponse } from '../generated/baton/v1/GetResponse.js';
import type { OpenRequest__Output } from '../generated/baton/v1/OpenRequest.js';
import type { OpenResponse } from '../generated/baton/v1/OpenResponse.js';
import type { Payload__Output } from '../generated/baton/v1/Payload.js';
import type { SessionServiceHandlers } from '../generated/baton/v1/SessionService.js';
import type { WatchEvent } from '../generated/baton/v1/WatchEvent.js';
import type { WatchRequest__Output } from '../generated/baton/v1/WatchRequest.js';
import { APPLY_BATCH_ITEMS, BatchWriter, ITEM_OVERHEAD_BYTES } from './batch-writer.js';
import { SliceQueue } from './slice-queue.js';
import { toErrorDetail, toStatusObject } from './status-mapper.js';
import { toSessionView } from './session-view.js';

/**
 * A watcher that stops reading is cut off once this many bytes wait in its
 * buffer, so one slow client cannot grow the node's memory without bound.
 */
export const WATCH_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * While stopping, an apply stream with nothing in flight that has been quiet
 * this long is ended at once instead of waiting for its client to half-close
 * (an idle client sends nothing that could tell it the node is stopping).
 */
const IDLE_STREAM_MS = 100;

/**
 * Requests queued on one apply stream past which it stops reading until the
 * queue drains: a client that sends faster than the node applies is held
 * back by HTTP/2 flow control instead of growing the node's memory.
 */
const QUEUED_MAX = 4 * APPLY_BATCH_ITEMS;

interface ApplyStreamState {
  /** Requests read but not yet answered: queued, or applied and awaiting confirmation. */
  readonly pending: () => number;
  lastDataAtMs: number;
  /** Ends the stream once nothing is in flight. */
  finish(): void;
}

function payload(p: Payload__Output | null): Payload {
  return { data: p?.data ?? EMPTY_BYTES, contentType: p?.contentType ?? '' };
}


/**
 * When a committed change may be answered: `checkWritable` runs before
 * anything is applied (it may refuse), `confirm` after the commit: it calls
 * `done` when the answer may go (null), at once or later, or with the error
 * to answer instead.
 */
export interface CommitPolicy {
  checkWritable(): void;
  confirm(done: (err: Error | null) => void): void;
}

const IMMEDIATE: CommitPolicy = { checkWritable: () => {}, confirm: (done) => done(null) };

/**
 * SessionService over a SessionEngine. The engine applies synchronously; the
 * answer waits for the commit policy (sync replication), so answers on one
 * stream may complete out of order.
 */
export class SessionServiceImpl {
  private readonly applyStreams = new Map<ServerDuplexStream<ApplyBatch__Output, ApplyResults>, ApplyStreamState>();
  private readonly watchStreams = new Set<ServerWritableStream<WatchRequest__Output, WatchEvent>>();

  constructor(
    private readonly engine: SessionEngine,
    private readonly registry: HandlerRegistry,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private readonly commit: CommitPolicy = IMMEDIATE,
  ) {}

  /** A unary call's answer once the commit policy confirms the change, or its error as a gRPC status. */
  private answerUnary<T>(value: T, callback: sendUnaryData<T>): void {
    this.commit.confirm((err) => (err === null ? callback(null, value) : callback(toStatusObject(err))));
  }

  get openStreams(): number {
    return this.applyStreams.size + this.watchStreams.size;
  }

  handlers(): SessionServiceHandlers {
    return {
      Open: (call, callback) => this.open(call, callback),
      Apply: (call, callback) => this.applyUnary(call, callback),
      ApplyStream: (call) => this.applyStream(call),
      Get: (call, callback) => this.getSession(call, callback),
      CloseSession: (call, callback) => this.close(call, callback),
      Watch: (call) => this.watch(call),
    };
  }

  /**
   * After the engine stopped accepting: waits up to `graceMs` for clients to
   * half-close their apply streams (they do when told the node is stopping),
   * then ends every stream that is left.
   */
  async closeStreams(graceMs: number): Promise<void> {
    for (const call of this.watchStreams) call.emit('error', toStatusObject(new NodeStoppingError(this.nodeId)));
    this.watchStreams.clear();
    const deadline = Date.now() + graceMs;
    while (this.applyStreams.size > 0 && Date.now() < deadline) {
      const now = Date.now();
      for (const state of [...this.applyStreams.values()]) {
        if (state.pending() === 0 && now - state.lastDataAtMs >= IDLE_STREAM_MS) state.finish();
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const call of this.applyStreams.keys()) call.end();
    this.applyStreams.clear();
  }

  private contentTypeOf(sessionType: string): string {
    return this.registry.get(sessionType).codec.contentType;
  }

  private open(call: ServerUnaryCall<OpenRequest__Output, OpenResponse>, callback: sendUnaryData<OpenResponse>): void {
    try {
      const req = call.request;
      this.commit.checkWritable();
      const outcome = this.engine.open({
        sessionType: req.sessionType,
        sessionId: req.sessionId,
        params: payload(req.params),
        opId: req.opId,
      });
      const response = {
        session: toSessionView(outcome.record, this.contentTypeOf(outcome.record.sessionType)),
        deduplicated: outcome.deduplicated,
      };
      this.answerUnary(response, callback);
    } catch (err) {
      callback(toStatusObject(err));
    }
  }

  private applyOne(req: ApplyRequest__Output): ApplyResponse {
    this.commit.checkWritable();
    const outcome = this.engine.apply({ sessionId: req.sessionId, opId: req.opId, op: payload(req.op) });
    return {
      correlationId: req.correlationId,
      version: outcome.version,
      reply: { data: outcome.reply, contentType: outcome.contentType },
      deduplicated: outcome.deduplicated,
    };
  }

  private applyUnary(
    call: ServerUnaryCall<ApplyRequest__Output, ApplyResponse>,
    callback: sendUnaryData<ApplyResponse>,
  ): void {
    try {
      this.answerUnary(this.applyOne(call.request), callback);
    } catch (err) {
      callback(toStatusObject(err));
    }
  }

  private applyStream(call: ServerDuplexStream<ApplyBatch__Output, ApplyResults>): void {
    let ending = false;
    let awaiting = 0;
    const answers = new BatchWriter<ApplyResponse>((responses, written) => call.write({ responses }, written));
    const queue = new SliceQueue<ApplyRequest__Output>(
      (req) => applyStreamed(req),
      () => {
        if (call.isPaused()) call.resume();
        if (ending) state.finish();
      },
    );
    const state: ApplyStreamState = {
      pending: () => queue.size + awaiting,
      lastDataAtMs: Date.now(),
      finish: () => {
        ending = true;
        if (state.pending() === 0 && this.applyStreams.delete(call)) {
          answers.flush();
          call.end();
        }
      },
    };
    this.applyStreams.set(call, state);
    const forget = (): void => {
      this.applyStreams.delete(call);
      queue.clear();
      answers.discard();
    };
    const refuse = (req: ApplyRequest__Output, err: unknown): void => {
      const error = toErrorDetail(err);
      answers.add({ correlationId: req.correlationId, error }, ITEM_OVERHEAD_BYTES + (error.message?.length ?? 0));
    };
    // One closure per operation, the one that answers it once confirmed.
    const applyStreamed = (req: ApplyRequest__Output): void => {
      let response: ApplyResponse;
      try {
        response = this.applyOne(req);
      } catch (err) {
        refuse(req, err);
        return;
      }
      awaiting += 1;
      this.commit.confirm((err) => {
        awaiting -= 1;
        if (err !== null) refuse(req, err);
        else answers.add(response, ITEM_OVERHEAD_BYTES + (response.reply?.data?.length ?? 0));
        if (ending) state.finish();
      });
    };
    call.on('data', (batch: ApplyBatch__Output) => {
      // Read after the node ended the stream: the client retries it elsewhere.
      if (ending && !this.applyStreams.has(call)) return;
      state.lastDataAtMs = Date.now();
      queue.push(batch.requests);
      if (queue.size > QUEUED_MAX && !call.isPaused()) call.pause();
    });
    // Every request read so far is answered before the stream ends.
    call.on('end', () => state.finish());
    call.on('cancelled', forget);
    call.on('error', (err) => {
      forget();
      this.logger.debug({ err }, 'apply stream failed');
    });
  }

  private getSession(call: ServerUnaryCall<GetRequest__Output, GetResponse>, callback: sendUnaryData<GetResponse>): void {
    try {
      const record = this.engine.getOwned(call.request.sessionId);
      callback(null, { session: toSessionView(record, this.contentTypeOf(record.sessionType)) });
    } catch (err) {
      callback(toStatusObject(err));
    }
  }

  private close(call: ServerUnaryCall<CloseRequest__Output, CloseResponse>, callback: sendUnaryData<CloseResponse>): void {
    try {
      this.commit.checkWritable();
      const result = this.engine.close({ sessionId: call.request.sessionId, opId: call.request.opId });
      this.answerUnary(result, callback);
    } catch (err) {
      callback(toStatusObject(err));
    }
  }

  private watch(call: ServerWritableStream<WatchRequest__Output, WatchEvent>): void {
    let unsubscribe = (): void => {};
    const finish = (): void => {
      unsubscribe();
      this.watchStreams.delete(call);
    };
    try {
      const record = this.engine.getOwned(call.request.sessionId);
      const contentType = this.contentTypeOf(record.sessionType);
      this.watchStreams.add(call);
      call.write({ kind: 'SNAPSHOT', session: toSessionView(record, contentType) });
      unsubscribe = this.engine.subscribe(record.sessionId, (event: EngineEvent) => {
        const session = toSessionView(event.record, contentType);
        if (event.type === 'closed') {
          finish();
          call.write({ kind: 'CLOSED', session, opId: event.opId });
          call.end();
          return;
        }
        if (event.type !== 'changed') return;
        call.write({
          kind: 'CHANGE',
          session,
          opId: event.opId,
          reply: { data: fromByteString(event.reply), contentType },
          timerId: event.timerId ?? '',
        });
        if (call.writableLength > WATCH_BUFFER_LIMIT_BYTES) {
          finish();
          call.emit(
            'error',
            toStatusObject(
              new BatonError(
                'ERR_SLOW_CONSUMER',
                `watcher of session "${record.sessionId}" fell more than ${WATCH_BUFFER_LIMIT_BYTES} bytes behind; watch again to resume from a snapshot`,
              ),
            ),
          );
        }
      });
      call.on('cancelled', finish);
      call.on('error', finish);
    } catch (err) {
      call.emit('error', toStatusObject(err));
    }
  }
}
