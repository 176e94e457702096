import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { BatonError, isBatonError, NotOwnerError, OperationRejectedError } from '../errors.js';
import type { BatonErrorCode } from '../errors.js';
import type { ErrorDetail } from '../generated/baton/v1/ErrorDetail.js';

/** Trailing metadata keys that carry Baton's error details to clients. */
export const ERROR_CODE_KEY = 'baton-error-code';
export const OWNER_ADDRESS_KEY = 'baton-owner';
export const HANDLER_CODE_KEY = 'baton-handler-code';

/**
 * The one mapping from Baton error codes to gRPC status codes. UNAVAILABLE
 * means "try again, possibly elsewhere": clients retry it; nothing else is
 * retried except by explicit choice.
 */
export const GRPC_STATUS_BY_CODE: Readonly<Record<BatonErrorCode, status>> = {
  ERR_INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  ERR_MALFORMED_PAYLOAD: status.INVALID_ARGUMENT,
  ERR_SESSION_NOT_FOUND: status.NOT_FOUND,
  ERR_SESSION_EXISTS: status.ALREADY_EXISTS,
  ERR_UNKNOWN_SESSION_TYPE: status.INVALID_ARGUMENT,
  ERR_OPERATION_REJECTED: status.FAILED_PRECONDITION,
  ERR_HANDLER_FAILED: status.INTERNAL,
  ERR_OPERATION_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  ERR_STATE_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  ERR_TOO_MANY_SESSIONS: status.RESOURCE_EXHAUSTED,
  ERR_TOO_MANY_TIMERS: status.RESOURCE_EXHAUSTED,
  ERR_SCHEMA_TOO_NEW: status.FAILED_PRECONDITION,
  ERR_NODE_STOPPING: status.UNAVAILABLE,
  ERR_NOT_OWNER: status.FAILED_PRECONDITION,
  ERR_RETRY_SOON: status.UNAVAILABLE,
  ERR_UNAVAILABLE: status.UNAVAILABLE,
  ERR_DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  ERR_CANCELLED: status.CANCELLED,
  ERR_INTERNAL: status.INTERNAL,
  ERR_CONFIG: status.INVALID_ARGUMENT,
  ERR_HANDLER_LOAD: status.INTERNAL,
  ERR_NO_REPLICA: status.UNAVAILABLE,
  ERR_PEER_REFUSED: status.FAILED_PRECONDITION,
  ERR_REDIS_REFUSED: status.FAILED_PRECONDITION,
  ERR_SLOW_CONSUMER: status.RESOURCE_EXHAUSTED,
};

const CODE_BY_GRPC_STATUS: Partial<Record<status, BatonErrorCode>> = {
  [status.UNAVAILABLE]: 'ERR_UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'ERR_DEADLINE_EXCEEDED',
  [status.CANCELLED]: 'ERR_CANCELLED',
  [status.INVALID_ARGUMENT]: 'ERR_INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'ERR_SESSION_NOT_FOUND',
  [status.RESOURCE_EXHAUSTED]: 'ERR_OPERATION_TOO_LARGE',
};

/** Normalises anything thrown while serving into a BatonError. */
export function asBatonError(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  return new BatonError('ERR_INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
  });
}

/** Server side: a domain error as a gRPC status with Baton metadata. */
export function toStatusObject(err: unknown): Partial<StatusObject> {
  const e = asBatonError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  if (e instanceof NotOwnerError) metadata.set(OWNER_ADDRESS_KEY, e.ownerAddress);
  if (e instanceof OperationRejectedError) metadata.set(HANDLER_CODE_KEY, e.handlerCode);
  return { code: GRPC_STATUS_BY_CODE[e.code], details: e.message, metadata };
}

/** Server side, stream form: a domain error as an inline ErrorDetail. */
export function toErrorDetail(err: unknown): ErrorDetail {
  const e = asBatonError(err);
  return {
    grpcCode: GRPC_STATUS_BY_CODE[e.code],
    code: e.code,
    message: e.message,
    ownerAddress: e instanceof NotOwnerError ? e.ownerAddress : '',
    handlerCode: e instanceof OperationRejectedError ? e.handlerCode : '',
  };
}

/** An error as a client sees it: the Baton code plus the gRPC status. */
export class RemoteError extends BatonError {
  override readonly name = 'RemoteError';
  constructor(
    code: BatonErrorCode,
    message: string,
    readonly grpcCode: status,
    readonly ownerAddress: string | undefined,
    readonly handlerCode: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }

  /**
   * True when the same request may succeed if tried again (here or on the
   * peer): the SDK retries exactly these, within the call's deadline.
   */
  get retryable(): boolean {
    return this.grpcCode === status.UNAVAILABLE || this.grpcCode === status.DEADLINE_EXCEEDED;
  }
}

function isKnownCode(value: string): value is BatonErrorCode {
  return Object.prototype.hasOwnProperty.call(GRPC_STATUS_BY_CODE, value);
}

/** grpc-js transport failures, without the empty trailing notes it appends. */
function transportDetails(err: ServiceError): string {
  const details = (err.details || status[err.code]).replace(/\.?\s*Resolution note:\s*$/, '');
  return details.replace(/^No connection established\. Last error: (?:Error: )?/, 'unreachable: ');
}

/** Client side: a failed unary or stream call as a RemoteError. */
export function fromServiceError(err: ServiceError, address: string): RemoteError {
  const first = (key: string): string | undefined => {
    const value = err.metadata?.get(key)[0];
    return value === undefined ? undefined : String(value);
  };
  const raw = first(ERROR_CODE_KEY);
  // A stream reset by the transport (not by the node) is worth retrying:
  // the operation id makes the retry safe.
  const grpcCode = raw === undefined && err.code === status.INTERNAL && /RST_STREAM/.test(err.details) ? status.UNAVAILABLE : err.code;
  const code: BatonErrorCode =
    raw !== undefined && isKnownCode(raw) ? raw : (CODE_BY_GRPC_STATUS[grpcCode] ?? 'ERR_INTERNAL');
  // A status without Baton metadata came from the transport, not the node.
  const message = raw === undefined ? `node ${address}: ${transportDetails(err)}` : err.details;
  return new RemoteError(code, message, grpcCode, first(OWNER_ADDRESS_KEY), first(HANDLER_CODE_KEY), {
    cause: err,
  });
}

/** Client side: an inline ErrorDetail as a RemoteError. */
export function fromErrorDetail(detail: ErrorDetail): RemoteError {
  const raw = detail.code ?? '';
  const grpcCode = (detail.grpcCode ?? status.INTERNAL) as status;
  const code: BatonErrorCode = isKnownCode(raw) ? raw : (CODE_BY_GRPC_STATUS[grpcCode] ?? 'ERR_INTERNAL');
  return new RemoteError(
    code,
    detail.message ?? code,
    grpcCode,
    detail.ownerAddress ? detail.ownerAddress : undefined,
    detail.handlerCode ? detail.handlerCode : undefined,
  );
}
