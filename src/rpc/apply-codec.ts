import type { ApplyBatch } from '../generated/baton/v1/ApplyBatch.js';
import type { ApplyRequest, ApplyRequest__Output } from '../generated/baton/v1/ApplyRequest.js';
import type { ApplyResponse, ApplyResponse__Output } from '../generated/baton/v1/ApplyResponse.js';
import type { ApplyResults } from '../generated/baton/v1/ApplyResults.js';
import type { ErrorDetail, ErrorDetail__Output } from '../generated/baton/v1/ErrorDetail.js';
import type { Payload, Payload__Output } from '../generated/baton/v1/Payload.js';
import { EMPTY_BYTES } from '../sessions/owned-bytes.js';
import { LENGTH_DELIMITED, VARINT, WireReader } from './wire-reader.js';
import type { FieldTable } from './wire-reader.js';
import { delimitedSize, varintFieldSize, varintSize, writeBytesField, writeStringField, writeVarint, writeVarintField } from './wire-writer.js';

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

const KEY_1_DELIMITED = (1 << 3) | LENGTH_DELIMITED;
const KEY_3_DELIMITED = (3 << 3) | LENGTH_DELIMITED;
const KEY_5_DELIMITED = (5 << 3) | LENGTH_DELIMITED;

/** Sizes measured by the first pass of an encoder, read back by its second (one encoder runs at a time). */
const sizes: number[] = [];

const isText = (value: unknown): value is string | undefined | null => value === undefined || value === null || typeof value === 'string';
const isCount = (value: unknown): value is number | undefined | null => value === undefined || value === null || typeof value === 'number';
const textLength = (text: string | undefined | null): number => (text ? Buffer.byteLength(text, 'utf8') : 0);

/** A payload's content size, or -1 when its shape is not one this codec writes. */
function payloadSize(payload: Payload): number {
  const { data, contentType } = payload;
  if (!(data === undefined || data === null || data instanceof Uint8Array) || !isText(contentType)) return -1;
  return delimitedSize(data?.length ?? 0) + delimitedSize(textLength(contentType));
}

/** Writes a present message field's key and length; its content follows. */
function openMessage(buf: Buffer, pos: number, key: number, size: number): number {
  buf[pos++] = key;
  return writeVarint(buf, pos, size);
}

function writePayload(buf: Buffer, pos: number, payload: Payload, size: number): number {
  pos = openMessage(buf, pos, KEY_3_DELIMITED, size);
  pos = writeBytesField(buf, pos, 1, (payload.data as Uint8Array | undefined) ?? EMPTY_BYTES);
  const contentType = payload.contentType ?? '';
  return writeStringField(buf, pos, 2, contentType, textLength(contentType), 'utf8');
}

const writeText = (buf: Buffer, pos: number, field: number, text: string | undefined | null): number =>
  writeStringField(buf, pos, field, text ?? '', textLength(text), 'utf8');

/** Wraps ApplyStream's request serializer: an ApplyBatch written directly. */
export function applyBatchSerializer(next: Serialize): Serialize {
  return function serializeApplyBatch(value) {
    const requests = (value as ApplyBatch).requests;
    if (!Array.isArray(requests)) return next(value);
    sizes.length = 0;
    let total = 0;
    for (const r of requests as ApplyRequest[]) {
      if (!isText(r.sessionId) || !isText(r.opId) || !isCount(r.correlationId)) return next(value);
      const op = r.op === undefined || r.op === null ? -1 : payloadSize(r.op);
      if (op === -1 && r.op !== undefined && r.op !== null) return next(value);
      const inner =
        delimitedSize(textLength(r.sessionId)) + delimitedSize(textLength(r.opId)) + (op === -1 ? 0 : 1 + varintSize(op) + op) + varintFieldSize(r.correlationId ?? 0);
      sizes.push(inner, op);
      total += 1 + varintSize(inner) + inner;
    }
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    let at = 0;
    for (const r of requests as ApplyRequest[]) {
      pos = openMessage(buf, pos, KEY_1_DELIMITED, sizes[at++] as number);
      pos = writeText(buf, pos, 1, r.sessionId);
      pos = writeText(buf, pos, 2, r.opId);
      const op = sizes[at++] as number;
      if (op !== -1) pos = writePayload(buf, pos, r.op as Payload, op);
      pos = writeVarintField(buf, pos, 4, (r.correlationId as number | undefined) ?? 0);
    }
    if (pos !== total) throw new Error(`an ApplyBatch took ${pos} bytes of ${total}`);
    return buf;
  };
}

/** An error detail's content size, or -1 when its shape is not one this codec writes. */
function errorSize(e: ErrorDetail): number {
  if (!isCount(e.grpcCode) || !isText(e.code) || !isText(e.message) || !isText(e.ownerAddress) || !isText(e.handlerCode)) return -1;
  return (
    varintFieldSize(e.grpcCode ?? 0) +
    delimitedSize(textLength(e.code)) +
    delimitedSize(textLength(e.message)) +
    delimitedSize(textLength(e.ownerAddress)) +
    delimitedSize(textLength(e.handlerCode))
  );
}

/** Wraps ApplyStream's response serializer: an ApplyResults written directly. */
export function applyResultsSerializer(next: Serialize): Serialize {
  return function serializeApplyResults(value) {
    const responses = (value as ApplyResults).responses;
    if (!Array.isArray(responses)) return next(value);
    sizes.length = 0;
    let total = 0;
    for (const r of responses as ApplyResponse[]) {
      if (!isCount(r.correlationId) || !isCount(r.version) || !(r.deduplicated === undefined || r.deduplicated === null || typeof r.deduplicated === 'boolean')) {
        return next(value);
      }
      const reply = r.reply === undefined || r.reply === null ? -1 : payloadSize(r.reply);
      const error = r.error === undefined || r.error === null ? -1 : errorSize(r.error);
      if ((reply === -1 && r.reply !== undefined && r.reply !== null) || (error === -1 && r.error !== undefined && r.error !== null)) return next(value);
      const inner =
        varintFieldSize(r.correlationId ?? 0) +
        varintFieldSize(r.version ?? 0) +
        (reply === -1 ? 0 : 1 + varintSize(reply) + reply) +
        (r.deduplicated === true ? 2 : 0) +
        (error === -1 ? 0 : 1 + varintSize(error) + error);
      sizes.push(inner, reply, error);
      total += 1 + varintSize(inner) + inner;
    }
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    let at = 0;
    for (const r of responses as ApplyResponse[]) {
      pos = openMessage(buf, pos, KEY_1_DELIMITED, sizes[at++] as number);
      pos = writeVarintField(buf, pos, 1, (r.correlationId as number | undefined) ?? 0);
      pos = writeVarintField(buf, pos, 2, (r.version as number | undefined) ?? 0);
      const reply = sizes[at++] as number;
      if (reply !== -1) pos = writePayload(buf, pos, r.reply as Payload, reply);
      if (r.deduplicated === true) pos = writeVarintField(buf, pos, 4, 1);
      const error = sizes[at++] as number;
      if (error !== -1) {
        const e = r.error as ErrorDetail;
        pos = openMessage(buf, pos, KEY_5_DELIMITED, error);
        pos = writeVarintField(buf, pos, 1, e.grpcCode ?? 0);
        pos = writeText(buf, pos, 2, e.code);
        pos = writeText(buf, pos, 3, e.message);
        pos = writeText(buf, pos, 4, e.ownerAddress);
        pos = writeText(buf, pos, 5, e.handlerCode);
      }
    }
    if (pos !== total) throw new Error(`an ApplyResults took ${pos} bytes of ${total}`);
    return buf;
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
    const field = reader.field(REPEATED_FIELDS);
    if (field === 1) {
      const outer = reader.enter();
      out.push(read(reader));
      reader.leave(outer);
    } else if (field === 0) throw reader.fail('field number 0');
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
    else if (field === 0) throw reader.fail('field number 0');
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
    else if (field === 0) throw reader.fail('field number 0');
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
    else if (field === 0) throw reader.fail('field number 0');
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
    else if (field === 0) throw reader.fail('field number 0');
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
