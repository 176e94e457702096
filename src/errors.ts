/**
 * Baton's error registry. Every error a caller can see has a stable `code`;
 * messages say what was wrong and what to do. The mapping to gRPC status
 * codes lives in one place: src/rpc/status-mapper.ts.
 */

export type BatonErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_MALFORMED_PAYLOAD'
  | 'ERR_SESSION_NOT_FOUND'
  | 'ERR_SESSION_EXISTS'
  | 'ERR_UNKNOWN_SESSION_TYPE'
  | 'ERR_OPERATION_REJECTED'
  | 'ERR_HANDLER_FAILED'
  | 'ERR_OPERATION_TOO_LARGE'
  | 'ERR_STATE_TOO_LARGE'
  | 'ERR_TOO_MANY_SESSIONS'
  | 'ERR_TOO_MANY_TIMERS'
  | 'ERR_SCHEMA_TOO_NEW'
  | 'ERR_NODE_STOPPING'
  | 'ERR_NOT_OWNER'
  | 'ERR_RETRY_SOON'
  | 'ERR_UNAVAILABLE'
  | 'ERR_DEADLINE_EXCEEDED'
  | 'ERR_CANCELLED'
  | 'ERR_INTERNAL'
  | 'ERR_CONFIG'
  | 'ERR_HANDLER_LOAD'
  | 'ERR_NO_REPLICA'
  | 'ERR_PEER_REFUSED'
  | 'ERR_REDIS_REFUSED'
  | 'ERR_SLOW_CONSUMER';

export interface BatonErrorOptions {
  cause?: unknown;
}

export class BatonError extends Error {
  override readonly name: string = 'BatonError';

  constructor(
    readonly code: BatonErrorCode,
    message: string,
    options: BatonErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** A request field is missing or outside its accepted range. */
export class InvalidArgumentError extends BatonError {
  override readonly name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `${field}: ${message}`);
  }
}

/** Operation, params or state bytes the handler's codec cannot decode. */
export class MalformedPayloadError extends BatonError {
  override readonly name = 'MalformedPayloadError';
  constructor(message: string, options: BatonErrorOptions = {}) {
    super('ERR_MALFORMED_PAYLOAD', message, options);
  }
}

export class SessionNotFoundError extends BatonError {
  override readonly name = 'SessionNotFoundError';
  constructor(readonly sessionId: string) {
    super(
      'ERR_SESSION_NOT_FOUND',
      `session "${sessionId}" does not exist (it was never opened, or it was closed)`,
    );
  }
}

export class SessionExistsError extends BatonError {
  override readonly name = 'SessionExistsError';
  constructor(readonly sessionId: string) {
    super(
      'ERR_SESSION_EXISTS',
      `session "${sessionId}" already exists; choose another id or omit it to get a generated one`,
    );
  }
}

export class UnknownSessionTypeError extends BatonError {
  override readonly name = 'UnknownSessionTypeError';
  constructor(
    readonly sessionType: string,
    readonly knownTypes: readonly string[],
  ) {
    super(
      'ERR_UNKNOWN_SESSION_TYPE',
      `unknown session type "${sessionType}"; this node has handlers for: ${
        knownTypes.length > 0 ? knownTypes.join(', ') : '(none)'
      } (start the daemon with --handler ${sessionType}=PATH to add one)`,
    );
  }
}

/** The handler refused the operation on purpose (it threw an error with a string `code`). */
export class OperationRejectedError extends BatonError {
  override readonly name = 'OperationRejectedError';
  constructor(
    message: string,
    readonly handlerCode: string,
  ) {
    super('ERR_OPERATION_REJECTED', message);
  }
}

/** The handler crashed (threw without a `code`, or returned something unusable). */
export class HandlerFailedError extends BatonError {
  override readonly name = 'HandlerFailedError';
  constructor(message: string, options: BatonErrorOptions = {}) {
    super('ERR_HANDLER_FAILED', message, options);
  }
}

export type LimitCode =
  | 'ERR_OPERATION_TOO_LARGE'
  | 'ERR_STATE_TOO_LARGE'
  | 'ERR_TOO_MANY_SESSIONS'
  | 'ERR_TOO_MANY_TIMERS';

export class LimitExceededError extends BatonError {
  override readonly name = 'LimitExceededError';
  constructor(
    code: LimitCode,
    message: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(code, message);
  }
}

export class SchemaTooNewError extends BatonError {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly sessionId: string,
    readonly recordVersion: number,
    readonly handlerVersion: number,
  ) {
    super(
      'ERR_SCHEMA_TOO_NEW',
      `session "${sessionId}" has state schema ${recordVersion}, newer than this node's handler (schema ${handlerVersion}); load the newer handler or one with a downgrade()`,
    );
  }
}

/** The node is shutting down; the caller should retry on the peer. */
export class NodeStoppingError extends BatonError {
  override readonly name = 'NodeStoppingError';
  constructor(readonly nodeId: string) {
    super('ERR_NODE_STOPPING', `node ${nodeId} is shutting down; retry on the peer node`);
  }
}

/** Another node owns the session; `ownerAddress` says where to go. */
export class NotOwnerError extends BatonError {
  override readonly name = 'NotOwnerError';
  constructor(
    readonly sessionId: string,
    readonly ownerAddress: string,
  ) {
    super('ERR_NOT_OWNER', `session "${sessionId}" is owned by the node at ${ownerAddress}; ask that node`);
  }
}

/** Invalid daemon configuration: names the field and what it accepts. */
export class ConfigError extends BatonError {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly accepted: string,
    readonly got: unknown,
  ) {
    super('ERR_CONFIG', `invalid ${field}: got ${JSON.stringify(got)}; expected ${accepted}`);
  }
}

export class HandlerLoadError extends BatonError {
  override readonly name = 'HandlerLoadError';
  constructor(
    readonly path: string,
    message: string,
    options: BatonErrorOptions = {},
  ) {
    super('ERR_HANDLER_LOAD', `cannot load handler from ${path}: ${message}`, options);
  }
}

export function isBatonError(err: unknown): err is BatonError {
  return err instanceof BatonError;
}

/** A write that needs a replica (--min-replicas 1, or one lost before it confirmed). */
export class NoReplicaError extends BatonError {
  override readonly name = 'NoReplicaError';
  constructor(message: string) {
    super('ERR_NO_REPLICA', message);
  }
}

/** The peer refused the handshake (or we refused the peer's). */
export class PeerRefusedError extends BatonError {
  override readonly name = 'PeerRefusedError';
  constructor(message: string) {
    super('ERR_PEER_REFUSED', message);
  }
}

/** Redis holds data this node must not use (another cluster's, or an unknown format). */
export class RedisRefusedError extends BatonError {
  override readonly name = 'RedisRefusedError';
  constructor(message: string) {
    super('ERR_REDIS_REFUSED', message);
  }
}

/** The node cannot serve yet (loading its snapshot or catching up); retry shortly. */
export class RetrySoonError extends BatonError {
  override readonly name = 'RetrySoonError';
  constructor(message: string) {
    super('ERR_RETRY_SOON', message);
  }
}
