import { ownedEncoded } from './owned-bytes.js';

/**
 * The handler API: a session type is a module that default-exports a
 * SessionHandler. The daemon never interprets state; only the handler does.
 *
 * Contract:
 * - `apply` and `init` are synchronous and must not perform I/O: the node
 *   applies operations one at a time per session and replicates the result.
 * - The state passed to `apply` is a fresh decoded copy; mutating it is
 *   allowed and never leaks into the stored session if `apply` throws.
 * - To refuse an operation, throw an Error with a string `code` property
 *   (e.g. `INVALID_TRANSITION`): the client gets ERR_OPERATION_REJECTED with
 *   that code and the message. Any other throw is reported as
 *   ERR_HANDLER_FAILED. Either way the session is left exactly as it was.
 */

/** Encodes and decodes a handler's operations, replies and state. */
export interface Codec {
  /** MIME type of every payload this codec produces and accepts. */
  readonly contentType: string;
  decode(data: Buffer): unknown;
  encode(value: unknown): Buffer;
}

/** A pending timer as the handler sees it. */
export interface TimerInfo {
  readonly timerId: string;
  /** Absolute deadline, ms since the Unix epoch. */
  readonly deadlineMs: number;
}

export interface ApplyContext {
  readonly sessionId: string;
  /** Version of the session before this operation. */
  readonly version: number;
  /** The node's clock, ms since the Unix epoch, read once per operation. */
  readonly nowMs: number;
  /** Set when this operation is a timer firing; the timer is already removed. */
  readonly timer: TimerInfo | undefined;
  /** The session's pending timers, as changed so far by this operation. */
  timers(): readonly TimerInfo[];
  /**
   * Sets (or replaces) a timer: at `deadlineMs` the node applies `payload` as
   * an operation on this session, exactly once, on whichever node owns the
   * session then.
   */
  setTimer(timerId: string, deadlineMs: number, payload: unknown): void;
  /** Cancels a timer; returns false when there was none with that id. */
  cancelTimer(timerId: string): boolean;
}

export interface InitContext {
  readonly sessionId: string;
  readonly nowMs: number;
  setTimer(timerId: string, deadlineMs: number, payload: unknown): void;
}

export interface ApplyResult<S = unknown, R = unknown> {
  state: S;
  reply: R;
}

export interface SessionHandler<S = unknown, O = unknown, R = unknown> {
  /** Session type name, e.g. "call". Must match the TYPE it is loaded as. */
  readonly name: string;
  /** Version of the state schema this code writes; a positive integer. */
  readonly schemaVersion: number;
  /** Codec for operations, replies and state; JSON when omitted. */
  readonly codec?: Codec;
  init(params: unknown, ctx: InitContext): S;
  apply(state: S, op: O, ctx: ApplyContext): ApplyResult<S, R>;
  /** Brings state written by schema `fromVersion` (< schemaVersion) up to date. */
  migrate(state: unknown, fromVersion: number): S;
  /** Optional: state of this schema as schema `toVersion` (< schemaVersion). */
  downgrade?(state: S, toVersion: number): unknown;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** The default codec: UTF-8 JSON. */
export const jsonCodec: Codec = {
  contentType: JSON_CONTENT_TYPE,
  decode(data: Buffer): unknown {
    return JSON.parse(data.toString('utf8')) as unknown;
  },
  encode(value: unknown): Buffer {
    const text = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined: store it as null.
    return ownedEncoded(text === undefined ? 'null' : text, 'utf8');
  },
};
