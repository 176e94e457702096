import type { ApplyBatch } from '../generated/baton/v1/ApplyBatch.js';
import type { ApplyRequest, ApplyRequest__Output } from '../generated/baton/v1/ApplyRequest.js';
import type { ApplyResponse, ApplyResponse__Output } from '../generated/baton/v1/ApplyResponse.js';
import type { ApplyResults } from '../generated/baton/v1/ApplyResults.js';
import type { ErrorDetail, ErrorDetail__Output } from '../generated/baton/v1/ErrorDetail.js';
import type { Payload, Payload__Output } from '../generated/baton/v1/Payload.js';
import { EMPTY_BYTES } from '../sessions/owned-bytes.js';
import { LENGTH_DELIMITED, VARINT, WireReader } from './wire-reader.js';
import type { FieldTable } from './wire-reader.js';
import { delimitedSize, Measured, varintFieldSize, varintSize, writeBytesField, writeDelimitedHead, writeStringField, writeVarintField } from './wire-writer.js';

/**
 * The apply stream's two messages, ApplyBatch (client to node) and
 * ApplyResults (node to client), written and read directly instead of
 * through protobufjs: every operation of figure 1 crosses both, twice.
 * protobufjs allocated a writer operation per field and a Long per 64-bit
 * field, and proto-loader's toObject copied every decoded message: about
 * 2 KB per operation on each side of the stream (one-off allocation
 * profiles of a daemon and of a load worker, docs/benchmarks.md). What
 * these read is what proto-loader reads, field for field, defaults
 * included; what they write, protobufjs reads back the same
 * (test/unit/apply-codec.test.ts). Values of a shape they do not expect
 * (a payload given as a base64 string, a Long) go to the serializer they
 * wrap.
 */

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** Recorded for an optional embedded message that is not there. */
const ABSENT = -1;
/** Returned by a measure when a value is not of a shape this codec writes. */
const UNWRITABLE = -1;

/**
 * What the serializers' first pass measures (each message's size, each
 * string's UTF-8 length), read back in the same order by the second.
 */
const measured = new Measured();

const isText = (value: unknown): value is string | undefined | null => value === undefined || value === null || typeof value === 'string';
const isCount = (value: unknown): value is number | undefined | null => value === undefined || value === null || typeof value === 'number';
/** Measures a string field; returns its bytes. */
const measureText = (text: string | undefined | null): number => delimitedSize(measured.add(text ? Buffer.byteLength(text, 'utf8') : 0));
const writeText = (buf: Buffer, pos: number, field: number, text: string | undefined | null): number =>
  writeStringField(buf, pos, field, text ?? '', measured.next(), 'utf8');

/**
 * Measures an optional embedded message whose content `measure` sizes;
 * returns its bytes as a field, or UNWRITABLE.
 */
function measureMessage<T>(value: T | undefined | null, measure: (value: T) => number): number {
  if (value === undefined || value === null) {
    measured.add(ABSENT);
    return 0;
  }
  const at = measured.reserve();
  const size = measure(value);
  if (size === UNWRITABLE) return UNWRITABLE;
  return 1 + varintSize(measured.set(at, size)) + size;
}

function payloadSize(payload: Payload): number {
  const { data, contentType } = payload;
  if (!(data === undefined || data === null || data instanceof Uint8Array) || !isText(contentType)) return UNWRITABLE;
  return delimitedSize(data?.length ?? 0) + measureText(contentType);
}

function writePayload(buf: Buffer, pos: number, field: number, payload: Payload | null | undefined): number {
  const size = measured.next();
  if (size === ABSENT) return pos;
  const p = payload as Payload;
  pos = writeDelimitedHead(buf, pos, field, size);
  pos = writeBytesField(buf, pos, 1, (p.data as Uint8Array | undefined) ?? EMPTY_BYTES);
  return writeText(buf, pos, 2, p.contentType);
}

function errorSize(e: ErrorDetail): number {
  if (!isCount(e.grpcCode) || !isText(e.code) || !isText(e.message) || !isText(e.ownerAddress) || !isText(e.handlerCode)) return UNWRITABLE;
  return varintFieldSize(e.grpcCode ?? 0) + measureText(e.code) + measureText(e.message) + measureText(e.ownerAddress) + measureText(e.handlerCode);
}

function writeError(buf: Buffer, pos: number, field: number, error: ErrorDetail | null | undefined): number {
  const size = measured.next();
  if (size === ABSENT) return pos;
  const e = error as ErrorDetail;
  pos = writeDelimitedHead(buf, pos, field, size);
  pos = writeVarintField(buf, pos, 1, e.grpcCode ?? 0);
  pos = writeText(buf, pos, 2, e.code);
  pos = writeText(buf, pos, 3, e.message);
  pos = writeText(buf, pos, 4, e.ownerAddress);
  return writeText(buf, pos, 5, e.handlerCode);
}

/**
 * A serializer of a message whose only field is the repeated message field
 * 1 (`elements` of it): `measure` sizes an element (UNWRITABLE sends the
 * whole message to `next`), `write` writes it, reading back in order what
 * `measure` recorded.
 */
function repeatedSerializer<T>(
  elements: (value: unknown) => unknown,
  measure: (element: T) => number,
  write: (buf: Buffer, pos: number, element: T) => number,
  next: Serialize,
): Serialize {
  return function serializeRepeated(value) {
    const list = elements(value);
    if (!Array.isArray(list)) return next(value);
    measured.reset();
    let total = 0;
    for (const element of list as (T | undefined | null)[]) {
      if (element === undefined || element === null) return next(value);
      const size = measureMessage(element, measure);
      if (size === UNWRITABLE) return next(value);
      total += size;
    }
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const element of list as T[]) {
      pos = writeDelimitedHead(buf, pos, 1, measured.next());
      pos = write(buf, pos, element);
    }
    if (pos !== total) throw new Error(`a repeated message took ${pos} bytes of ${total}`);
    return buf;
  };
}

function requestSize(r: ApplyRequest): number {
  if (!isText(r.sessionId) || !isText(r.opId) || !isCount(r.correlationId)) return UNWRITABLE;
  const ids = measureText(r.sessionId) + measureText(r.opId);
  const op = measureMessage(r.op, payloadSize);
  return op === UNWRITABLE ? UNWRITABLE : ids + op + varintFieldSize(r.correlationId ?? 0);
}

function writeRequest(buf: Buffer, pos: number, r: ApplyRequest): number {
  pos = writeText(buf, pos, 1, r.sessionId);
  pos = writeText(buf, pos, 2, r.opId);
  pos = writePayload(buf, pos, 3, r.op);
  return writeVarintField(buf, pos, 4, (r.correlationId as number | undefined) ?? 0);
}

function responseSize(r: ApplyResponse): number {
  if (!isCount(r.correlationId) || !isCount(r.version) || !(r.deduplicated === undefined || r.deduplicated === null || typeof r.deduplicated === 'boolean')) {
    return UNWRITABLE;
  }
  const reply = measureMessage(r.reply, payloadSize);
  const error = measureMessage(r.error, errorSize);
  if (reply === UNWRITABLE || error === UNWRITABLE) return UNWRITABLE;
  return varintFieldSize(r.correlationId ?? 0) + varintFieldSize(r.version ?? 0) + reply + (r.deduplicated === true ? 2 : 0) + error;
}

function writeResponse(buf: Buffer, pos: number, r: ApplyResponse): number {
  pos = writeVarintField(buf, pos, 1, (r.correlationId as number | undefined) ?? 0);
  pos = writeVarintField(buf, pos, 2, (r.version as number | undefined) ?? 0);
  pos = writePayload(buf, pos, 3, r.reply);
  if (r.deduplicated === true) pos = writeVarintField(buf, pos, 4, 1);
  return writeError(buf, pos, 5, r.error);
}

/** Wraps ApplyStream's request serializer: an ApplyBatch written directly. */
export function applyBatchSerializer(next: Serialize): Serialize {
  const serialize = repeatedSerializer((value) => (value as ApplyBatch).requests, requestSize, writeRequest, next);
  return function serializeApplyBatch(value) {
    return serialize(value);
  };
}

/** Wraps ApplyStream's response serializer: an ApplyResults written directly. */
export function applyResultsSerializer(next: Serialize): Serialize {
  const serialize = repeatedSerializer((value) => (value as ApplyResults).responses, responseSize, writeResponse, next);
  return function serializeApplyResults(value) {
    return serialize(value);
  };
}

const REPEATED_FIELDS: FieldTable = [undefined, ['element', LENGTH_DELIMITED]];
const REQUEST_FIELDS: FieldTable = [undefined, ['session_id', LENGTH_DELIMITED], ['op_id', LENGTH_DELIMITED], ['op', LENGTH_DELIMITED], ['correlation_id', VARINT]];
const RESPONSE_FIELDS: FieldTable = [
  undefined,
  ['correlation_id', VARINT],
  ['version', VARINT],
  ['reply', LENGTH_DELIMITED],
  ['deduplicated', VARINT],
  ['error', LENGTH_DELIMITED],
];
const PAYLOAD_FIELDS: FieldTable = [undefined, ['data', LENGTH_DELIMITED], ['content_type', LENGTH_DELIMITED]];
const ERROR_FIELDS: FieldTable = [
  undefined,
  ['grpc_code', VARINT],
  ['code', LENGTH_DELIMITED],
  ['message', LENGTH_DELIMITED],
  ['owner_address', LENGTH_DELIMITED],
  ['handler_code', LENGTH_DELIMITED],
];

/** Reads the repeated message field 1 of the message in `bytes`, each element with `read`. */
function readRepeated<T>(reader: WireReader, bytes: Buffer, read: (reader: WireReader) => T): T[] {
  reader.reset(bytes);
  const out: T[] = [];
  while (reader.pos < reader.end) {
    if (reader.field(REPEATED_FIELDS) === 1) out.push(embedded(reader, read));
    else reader.skip(reader.wireType);
  }
  return out;
}

/** Reads a Payload, up to the reader's end; `data` is a view of the message's bytes, as protobufjs gives it. */
function readPayload(reader: WireReader): Payload__Output {
  let data = EMPTY_BYTES;
  let contentType = '';
  while (reader.pos < reader.end) {
    const field = reader.field(PAYLOAD_FIELDS);
    if (field === 1) {
      const start = reader.skipDelimited();
      data = reader.buf.subarray(start, reader.pos);
    } else if (field === 2) contentType = reader.string();
    else reader.skip(reader.wireType);
  }
  return { data, contentType };
}

/** Reads an embedded message with `read`; the reader is left after it. */
function embedded<T>(reader: WireReader, read: (reader: WireReader) => T): T {
  const outer = reader.enter();
  const value = read(reader);
  reader.leave(outer);
  return value;
}

function readRequest(reader: WireReader): ApplyRequest__Output {
  const request: ApplyRequest__Output = { sessionId: '', opId: '', op: null, correlationId: 0 };
  while (reader.pos < reader.end) {
    const field = reader.field(REQUEST_FIELDS);
    if (field === 1) request.sessionId = reader.string();
    else if (field === 2) request.opId = reader.string();
    else if (field === 3) request.op = embedded(reader, readPayload);
    else if (field === 4) request.correlationId = reader.int64(false);
    else reader.skip(reader.wireType);
  }
  return request;
}

function readError(reader: WireReader): ErrorDetail__Output {
  const detail: ErrorDetail__Output = { grpcCode: 0, code: '', message: '', ownerAddress: '', handlerCode: '' };
  while (reader.pos < reader.end) {
    const field = reader.field(ERROR_FIELDS);
    // int32: a negative value is a ten-byte varint, read as int64 and cut to 32 bits as protobufjs does.
    if (field === 1) detail.grpcCode = reader.int64(true) | 0;
    else if (field === 2) detail.code = reader.string();
    else if (field === 3) detail.message = reader.string();
    else if (field === 4) detail.ownerAddress = reader.string();
    else if (field === 5) detail.handlerCode = reader.string();
    else reader.skip(reader.wireType);
  }
  return detail;
}

function readResponse(reader: WireReader): ApplyResponse__Output {
  const response: ApplyResponse__Output = { correlationId: 0, version: 0, reply: null, deduplicated: false, error: null };
  while (reader.pos < reader.end) {
    const field = reader.field(RESPONSE_FIELDS);
    if (field === 1) response.correlationId = reader.int64(false);
    else if (field === 2) response.version = reader.int64(false);
    else if (field === 3) response.reply = embedded(reader, readPayload);
    else if (field === 4) response.deduplicated = reader.int64(false) !== 0;
    else if (field === 5) response.error = embedded(reader, readError);
    else reader.skip(reader.wireType);
  }
  return response;
}

/** ApplyStream's request deserializer (the node's side): an ApplyBatch read directly. */
export function deserializeApplyBatch(bytes: Buffer): { requests: ApplyRequest__Output[] } {
  return { requests: readRepeated(new WireReader('baton.v1.ApplyBatch'), bytes, readRequest) };
}

/** ApplyStream's response deserializer (the client's side): an ApplyResults read directly. */
export function deserializeApplyResults(bytes: Buffer): { responses: ApplyResponse__Output[] } {
  return { responses: readRepeated(new WireReader('baton.v1.ApplyResults'), bytes, readResponse) };
}

/** Installs the codec on ApplyStream's method definition (both ends use it). */
export function useApplyCodec(method: { requestSerialize: Serialize; requestDeserialize: Deserialize; responseSerialize: Serialize; responseDeserialize: Deserialize }): void {
  method.requestSerialize = applyBatchSerializer(method.requestSerialize);
  method.requestDeserialize = deserializeApplyBatch;
  method.responseSerialize = applyResultsSerializer(method.responseSerialize);
  method.responseDeserialize = deserializeApplyResults;
}
