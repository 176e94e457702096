import { randomUUID } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { BatonError, InvalidArgumentError } from '../errors.js';
import type { ApplyResponse__Output } from '../generated/baton/v1/ApplyResponse.js';
import type { Payload } from '../generated/baton/v1/Payload.js';
import type { SessionServiceClient } from '../generated/baton/v1/SessionService.js';
import type { WatchEvent__Output } from '../generated/baton/v1/WatchEvent.js';
import { parseHostPort } from '../rpc/address.js';
import { loadBatonProto } from '../rpc/proto-loader.js';
import { fromServiceError, RemoteError } from '../rpc/status-mapper.js';
import { ApplyStreamMux } from './apply-stream-mux.js';
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_INITIAL_BACKOFF_MS,
  DEFAULT_MAX_BACKOFF_MS,
  MAX_CLIENT_ID_LENGTH,
  randomClientId,
} from './client-options.js';
import type { ApplyOptions, BatonClientOptions, CallOptions, OpenOptions, ResolvedClientOptions } from './client-options.js';
import { decodeValue, encodeValue } from './payload-codec.js';
import { toSnapshot } from './session-snapshot.js';
import type { SessionSnapshot } from './session-snapshot.js';
import { SessionWatch } from './session-watch.js';

export interface ApplyResult<R = unknown> {
  /** Session version after the operation. */
  readonly version: number;
  /** The handler's reply (decoded when JSON). */
  readonly reply: R;
  /** True when the node had already applied this op id and returned the original reply. */
  readonly deduplicated: boolean;
  readonly opId: string;
  /** How many attempts the call took (1 without retries). */
  readonly attempts: number;
}

/** Most redirects followed by one call, so two confused nodes cannot loop a client. */
const MAX_REDIRECTS = 4;
/** Bound on remembered session owners; cleared when full. */
const MAX_OWNER_HINTS = 100_000;
/** Larger than any node's state limit. */
const CLIENT_MESSAGE_LIMIT_BYTES = 128 * 1024 * 1024;

/** The fields of one apply request, as every attempt sends them. */
interface ApplyFields {
  readonly sessionId: string;
  readonly opId: string;
  readonly op: Payload;
}

/** Where a call stands in its retries. */
interface RetryState {
  /** The call's deadline, ms from its start, and when that is (ms since the epoch). */
  readonly budget: number;
  readonly deadline: number;
  /** The node the next attempt goes to. */
  address: string;
  backoff: number;
  redirects: number;
  attempts: number;
  /** The last error a node gave (beats what the transport said, when reporting failure). */
  informative: RemoteError | undefined;
}

function applyResult<R>(response: ApplyResponse__Output, opId: string, attempts: number): ApplyResult<R> {
  return { version: response.version, reply: decodeValue(response.reply) as R, deduplicated: response.deduplicated, opId, attempts };
}

interface Connection {
  readonly address: string;
  readonly client: SessionServiceClient;
  readonly mux: ApplyStreamMux;
}

function resolveOptions(options: BatonClientOptions): ResolvedClientOptions {
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw new InvalidArgumentError('nodes', 'give at least one node address, e.g. ["127.0.0.1:7100"]');
  }
  for (const node of options.nodes) {
    if (parseHostPort(node) === undefined) throw new InvalidArgumentError('nodes', `"${node}" is not HOST:PORT`);
  }
  const positive = (field: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(field, `must be a positive number of ms, got ${value}`);
    return value;
  };
  return {
    nodes: [...options.nodes],
    deadlineMs: positive('deadlineMs', options.deadlineMs, DEFAULT_DEADLINE_MS),
    attemptTimeoutMs: positive('attemptTimeoutMs', options.attemptTimeoutMs, DEFAULT_ATTEMPT_TIMEOUT_MS),
    initialBackoffMs: positive('initialBackoffMs', options.initialBackoffMs, DEFAULT_INITIAL_BACKOFF_MS),
    maxBackoffMs: positive('maxBackoffMs', options.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS),
    clientId: clientIdOf(options.clientId),
  };
}

function clientIdOf(clientId: string | undefined): string {
  if (clientId === undefined) return randomClientId();
  if (typeof clientId !== 'string') throw new InvalidArgumentError('clientId', `must be a string, got ${typeof clientId}`);
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) {
    throw new InvalidArgumentError(
      'clientId',
      `must be 1 to ${MAX_CLIENT_ID_LENGTH} characters long, got ${clientId.length}; leave it out for a random one`,
    );
  }
  return clientId;
}

function asRemote(err: unknown, address: string): RemoteError {
  if (err instanceof RemoteError) return err;
  if (err instanceof BatonError) throw err;
  if (typeof err === 'object' && err !== null && 'code' in err && 'details' in err) {
    return fromServiceError(err as ServiceError, address);
  }
  throw err;
}

/**
 * Client SDK for a Baton pair. Assigns operation ids, retries transient
 * failures with backoff inside each call's deadline, fails over between the
 * nodes and follows "not the owner" redirects, so the application sees
 * neither. Operations go over one multiplexed stream per node by default.
 */
export class BatonClient {
  readonly options: ResolvedClientOptions;
  private readonly connections = new Map<string, Connection>();
  private readonly ownerHints = new Map<string, string>();
  private preferred = 0;
  private opSeq = 0;
  private closed = false;

  constructor(options: BatonClientOptions) {
    this.options = resolveOptions(options);
  }

  /** A fresh operation id: unique per client, ordered within it. */
  nextOpId(): string {
    this.opSeq += 1;
    return `${this.options.clientId}:${this.opSeq}`;
  }

  /** Opens a session of `sessionType`; retries are safe (same session id and op id). */
  async open<S = unknown>(sessionType: string, options: OpenOptions = {}): Promise<SessionSnapshot<S>> {
    const sessionId = options.sessionId ?? randomUUID();
    const opId = options.opId ?? this.nextOpId();
    const params = encodeValue(options.params, options.contentType);
    return this.withRetry(() => `open ${sessionType} session ${sessionId}`, sessionId, options, (conn, timeoutMs) =>
      new Promise((resolve, reject) => {
        conn.client.Open({ sessionType, sessionId, params, opId }, { deadline: Date.now() + timeoutMs }, (err, res) =>
          err ? reject(err) : resolve(toSnapshot<S>(res?.session ?? null)),
        );
      }),
    );
  }

  /**
   * Applies `op` to a session (exactly once, even across retries and
   * failovers). The first attempt over the stream is made without the retry
   * loop's async frames, which cost more allocation per operation than the
   * rest of the call: the loop takes over only once an attempt fails.
   */
  apply<R = unknown>(sessionId: string, op: unknown, options: ApplyOptions = {}): Promise<ApplyResult<R>> {
    let request: ApplyFields;
    try {
      const opId = options.opId ?? this.nextOpId();
      request = { sessionId, opId, op: encodeValue(op, options.contentType) };
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const retry = this.startRetry(sessionId, options);
    if (this.closed || options.transport === 'unary') return this.applyWithRetry<R>(request, options, retry);
    retry.attempts = 1;
    try {
      return this.connection(retry.address)
        .mux.send(request, this.attemptTimeout(retry))
        .then(
          (response) => applyResult<R>(response, request.opId, 1),
          (error: unknown) => this.applyWithRetry<R>(request, options, retry, { error }),
        );
    } catch (err) {
      return this.applyWithRetry<R>(request, options, retry, { error: err });
    }
  }

  /** Apply through the retry loop: after a failed first attempt, or for the unary transport. */
  private applyWithRetry<R>(request: ApplyFields, options: ApplyOptions, retry: RetryState, failed?: { readonly error: unknown }): Promise<ApplyResult<R>> {
    const attempt = (conn: Connection, timeoutMs: number): Promise<ApplyResponse__Output> => {
      if (options.transport !== 'unary') return conn.mux.send(request, timeoutMs);
      return new Promise<ApplyResponse__Output>((resolve, reject) => {
        conn.client.Apply(request, { deadline: Date.now() + timeoutMs }, (err, res) => (err || res === undefined ? reject(err) : resolve(res)));
      });
    };
    const what = (): string => `apply ${request.opId} to session ${request.sessionId}`;
    return this.withRetry(what, request.sessionId, options, attempt, retry, failed).then((response) =>
      applyResult<R>(response, request.opId, retry.attempts),
    );
  }

  async get<S = unknown>(sessionId: string, options: CallOptions = {}): Promise<SessionSnapshot<S>> {
    return this.withRetry(() => `get session ${sessionId}`, sessionId, options, (conn, timeoutMs) =>
      new Promise((resolve, reject) => {
        conn.client.Get({ sessionId }, { deadline: Date.now() + timeoutMs }, (err, res) =>
          err ? reject(err) : resolve(toSnapshot<S>(res?.session ?? null)),
        );
      }),
    );
  }

  /** Closes a session; returns its final version. A retried close that finds it gone succeeds. */
  async close(sessionId: string, options: CallOptions = {}): Promise<{ version: number }> {
    const opId = options.opId ?? this.nextOpId();
    let attempts = 0;
    try {
      return await this.withRetry(() => `close session ${sessionId}`, sessionId, options, (conn, timeoutMs) => {
        attempts += 1;
        return new Promise((resolve, reject) => {
          conn.client.CloseSession({ sessionId, opId }, { deadline: Date.now() + timeoutMs }, (err, res) =>
            err ? reject(err) : resolve({ version: res?.version ?? 0 }),
          );
        });
      });
    } catch (err) {
      // An earlier attempt closed it and the answer was lost.
      if (attempts > 1 && err instanceof RemoteError && err.code === 'ERR_SESSION_NOT_FOUND') return { version: -1 };
      throw err;
    }
  }

  /**
   * Streams a session's changes: a snapshot first, then every change, then
   * "closed". Reconnects (to either node) after transient failures and
   * starts again with a fresh snapshot.
   */
  watch<S = unknown, R = unknown>(sessionId: string, options: CallOptions = {}): SessionWatch<S, R> {
    return new SessionWatch<S, R>(sessionId, (onEvent, onError, onEnd) =>
      this.withRetry(() => `watch session ${sessionId}`, sessionId, options, (conn, timeoutMs) =>
        new Promise<() => void>((resolve, reject) => {
          const call = conn.client.Watch({ sessionId });
          let started = false;
          // The snapshot comes first and at once; a node that sends nothing is not answering.
          const timer = setTimeout(() => {
            if (started) return;
            call.cancel();
            reject(new RemoteError('ERR_DEADLINE_EXCEEDED', `no answer from ${conn.address} within ${timeoutMs} ms`, status.DEADLINE_EXCEEDED, undefined, undefined));
          }, timeoutMs);
          call.on('data', (event: WatchEvent__Output) => {
            if (!started) {
              started = true;
              clearTimeout(timer);
              resolve(() => call.cancel());
            }
            onEvent(event);
          });
          call.on('error', (err: ServiceError) => {
            if (err.code === status.CANCELLED) return;
            const remote = fromServiceError(err, conn.address);
            clearTimeout(timer);
            if (!started) reject(remote);
            else onError(remote);
          });
          call.on('end', () => {
            if (started) onEnd();
          });
        }),
      ),
    );
  }

  /** Closes every connection; calls in flight fail with ERR_CANCELLED. */
  shutdown(): void {
    this.closed = true;
    for (const conn of this.connections.values()) {
      conn.mux.close();
      conn.client.close();
    }
    this.connections.clear();
  }

  private connection(address: string): Connection {
    let conn = this.connections.get(address);
    if (conn === undefined) {
      const proto = loadBatonProto();
      const client = new proto.baton.v1.SessionService(address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': CLIENT_MESSAGE_LIMIT_BYTES,
        'grpc.max_send_message_length': CLIENT_MESSAGE_LIMIT_BYTES,
        // Fail fast instead of queueing while a node is down: the retry
        // loop moves to the peer.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      });
      conn = { address, client, mux: new ApplyStreamMux(client, address) };
      this.connections.set(address, conn);
    }
    return conn;
  }

  private addressFor(sessionId: string | undefined): string {
    const hint = sessionId === undefined ? undefined : this.ownerHints.get(sessionId);
    return hint ?? (this.options.nodes[this.preferred] as string);
  }

  private rememberOwner(sessionId: string | undefined, address: string): void {
    if (sessionId === undefined) return;
    if (this.ownerHints.size >= MAX_OWNER_HINTS) this.ownerHints.clear();
    this.ownerHints.set(sessionId, address);
  }

  /** Moves the default node on after `failed` was unreachable. */
  private failOver(failed: string): string {
    const index = this.options.nodes.indexOf(failed);
    const next = (index + 1) % this.options.nodes.length;
    if (index === this.preferred || index === -1) this.preferred = next;
    return this.options.nodes[next] as string;
  }

  /** A call's retry state, its deadline counted from now. */
  private startRetry(sessionId: string | undefined, options: CallOptions): RetryState {
    const budget = options.deadlineMs ?? this.options.deadlineMs;
    return {
      budget,
      deadline: Date.now() + budget,
      address: this.addressFor(sessionId),
      backoff: this.options.initialBackoffMs,
      redirects: 0,
      attempts: 0,
      informative: undefined,
    };
  }

  /** The next attempt's timeout: what is left of the deadline, at most the attempt timeout. */
  private attemptTimeout(retry: RetryState): number {
    return Math.max(1, Math.min(retry.deadline - Date.now(), this.options.attemptTimeoutMs));
  }

  /**
   * Makes attempts until one succeeds, retrying transient failures with
   * backoff inside the call's deadline. `failed` holds the error of an
   * attempt already made (counted in `retry`), which is handled first.
   */
  private async withRetry<T>(
    /** What the call does, for its error messages (built only for them: apply runs per operation). */
    what: () => string,
    sessionId: string | undefined,
    options: CallOptions,
    attempt: (conn: Connection, timeoutMs: number) => Promise<T>,
    retry: RetryState = this.startRetry(sessionId, options),
    failed?: { readonly error: unknown },
  ): Promise<T> {
    if (failed === undefined && this.closed) throw new BatonError('ERR_CANCELLED', `${what()}: the client was shut down`);
    let last = failed;
    for (;;) {
      if (last !== undefined && this.afterFailure(retry, last.error, what, sessionId)) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(retry.deadline - Date.now(), Math.random() * retry.backoff)));
        retry.backoff = Math.min(retry.backoff * 2, this.options.maxBackoffMs);
      }
      retry.attempts += 1;
      try {
        return await attempt(this.connection(retry.address), this.attemptTimeout(retry));
      } catch (error) {
        last = { error };
      }
    }
  }

  /**
   * Decides what follows a failed attempt: true to back off first, false to
   * try again at once (a redirect to the owner). Throws when the call gives
   * up: an error that is not transient, a closed client, the deadline.
   */
  private afterFailure(retry: RetryState, err: unknown, what: () => string, sessionId: string | undefined): boolean {
    const last = asRemote(err, retry.address);
    // What a node said beats what the transport said, when reporting failure.
    if (last.code !== 'ERR_UNAVAILABLE' && last.code !== 'ERR_DEADLINE_EXCEEDED') retry.informative = last;
    if (last.code === 'ERR_NOT_OWNER' && last.ownerAddress !== undefined) {
      if (retry.redirects < MAX_REDIRECTS) {
        retry.redirects += 1;
        retry.address = last.ownerAddress;
        this.rememberOwner(sessionId, retry.address);
        return false;
      }
      // The nodes disagree (an owner restarting on a new address, say):
      // back off and start over from the default node.
      retry.redirects = 0;
      if (sessionId !== undefined) this.ownerHints.delete(sessionId);
      retry.address = this.addressFor(sessionId);
    } else if (!last.retryable || this.closed) {
      throw last;
    } else if (last.code !== 'ERR_RETRY_SOON') {
      if (sessionId !== undefined) this.ownerHints.delete(sessionId);
      retry.address = this.failOver(retry.address);
    }
    if (retry.deadline - Date.now() <= 0) {
      const cause = retry.informative ?? last;
      throw new RemoteError(
        cause.code,
        `${what()} did not complete within ${retry.budget} ms (${retry.attempts} attempts); last error: ${cause.message}`,
        cause.grpcCode,
        cause.ownerAddress,
        cause.handlerCode,
        { cause },
      );
    }
    return true;
  }
}
