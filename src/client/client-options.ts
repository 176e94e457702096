import { randomBytes } from 'node:crypto';

/** Options of a BatonClient. */
export interface BatonClientOptions {
  /** Session API addresses of the nodes ("host:port"); the first is tried first. */
  readonly nodes: readonly string[];
  /**
   * Time budget of one call, retries included, in ms.
   * @default 10_000
   */
  readonly deadlineMs?: number;
  /**
   * Longest wait for one attempt before it is retried (the operation id makes
   * the retry safe), in ms. Bounds how long a paused node can stall a call.
   * @default 2_000
   */
  readonly attemptTimeoutMs?: number;
  /**
   * First pause between retries, doubled per retry with full jitter, in ms.
   * @default 25
   */
  readonly initialBackoffMs?: number;
  /** @default 1_000 */
  readonly maxBackoffMs?: number;
  /**
   * Prefix of generated operation ids ("<clientId>:<n>"); must be unique per
   * client instance, and at most MAX_CLIENT_ID_LENGTH characters.
   * @default 16 random base64url characters (96 bits)
   */
  readonly clientId?: string;
}

export const DEFAULT_DEADLINE_MS = 10_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2_000;
export const DEFAULT_INITIAL_BACKOFF_MS = 25;
export const DEFAULT_MAX_BACKOFF_MS = 1_000;
/**
 * Leaves room for ":" and any sequence number within a node's 128-character
 * limit on operation ids.
 */
export const MAX_CLIENT_ID_LENGTH = 100;

/**
 * A fresh client id: 96 random bits in 16 characters. Every session keeps
 * the ids of its last operations (the dedupe window, packed sessions
 * included), so the prefix is paid for up to 32 times per session: a UUID
 * would cost 20 bytes more each time, for randomness no collision needs.
 */
export function randomClientId(): string {
  return randomBytes(12).toString('base64url');
}

export interface ResolvedClientOptions {
  readonly nodes: readonly string[];
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly clientId: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's deadlineMs for this call. */
  readonly deadlineMs?: number;
  /** Operation id; generated when omitted. Reuse it to retry by hand safely. */
  readonly opId?: string;
}

export interface ApplyOptions extends CallOptions {
  /**
   * "stream" (default) multiplexes operations on one bidirectional stream per
   * node; "unary" sends one gRPC call per operation.
   */
  readonly transport?: 'stream' | 'unary';
  /** Content type of `op` when it is a Buffer; JSON values need none. */
  readonly contentType?: string;
}

export interface OpenOptions extends CallOptions {
  /** Client-chosen session id; a random UUID when omitted. */
  readonly sessionId?: string;
  /** Parameters for the handler's init(); JSON-encoded unless a Buffer. */
  readonly params?: unknown;
  readonly contentType?: string;
}
