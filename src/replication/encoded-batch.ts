import type { RecordBatch, RecordBatch__Output } from '../generated/baton/v1/RecordBatch.js';
import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import type { SourceMessage } from '../generated/baton/v1/SourceMessage.js';
import { decodeReceived } from './record-codec.js';
import type { ReceivedRecord } from './record-codec.js';
import { LENGTH_DELIMITED, VARINT, WireReader } from '../rpc/wire-reader.js';
import type { FieldTable } from '../rpc/wire-reader.js';
import { varintFieldSize, varintSize, writeDelimitedHead, writeVarintField } from '../rpc/wire-writer.js';

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** Replicate's SourceMessage carries its RecordBatch in this field. */
export const SOURCE_BATCH_FIELD = 2;

/**
 * A SourceMessage carrying a batch of records that are already encoded
 * (baton.v1.SessionRecord messages, as the replication log keeps them).
 * The serializer installed by spliceEncoded writes their bytes as
 * they are; the type says records because that is what the peer reads.
 */
export function encodedBatch(records: readonly Buffer[], sentAtMs: number): SourceMessage {
  return { batch: encodedRecords(records, sentAtMs) };
}

/** A RecordBatch of records already encoded (see encodedBatch), as Handback sends it. */
export function encodedRecords(records: readonly Buffer[], sentAtMs: number): RecordBatch {
  return { records: records as unknown as WireRecord[], sentAtMs };
}

/**
 * A RecordBatch whose records are Buffers, written around their bytes,
 * as field `wrapField` of an enclosing message when given.
 */
function writeBatch(batch: { records?: unknown[] | null; fullSyncDone?: boolean | null; sentAtMs?: number | string | null }, wrapField?: number): Buffer {
  const encoded = (batch.records ?? []) as Buffer[];
  const sentAtMs = Number(batch.sentAtMs ?? 0);
  const fullSyncDone = batch.fullSyncDone === true ? 1 : 0;
  let inner = varintFieldSize(fullSyncDone) + varintFieldSize(sentAtMs);
  for (const r of encoded) {
    if (!Buffer.isBuffer(r)) throw new Error('a batch of encoded records holds one that is not encoded');
    // Every record is written, an empty one too: its presence is the element.
    inner += 1 + varintSize(r.length) + r.length;
  }
  const out = Buffer.allocUnsafe(wrapField === undefined ? inner : 1 + varintSize(inner) + inner);
  let pos = wrapField === undefined ? 0 : writeDelimitedHead(out, 0, wrapField, inner);
  for (const r of encoded) {
    pos = writeDelimitedHead(out, pos, 1, r.length);
    pos += r.copy(out, pos);
  }
  pos = writeVarintField(out, pos, 2, fullSyncDone);
  pos = writeVarintField(out, pos, 3, sentAtMs);
  if (pos !== out.length) throw new Error(`a batch of encoded records took ${pos} bytes of ${out.length}`);
  return out;
}

/**
 * Wraps a serializer of RecordBatches (Handback's), or, given `wrapField`, of
 * messages holding one in that field (Replicate's SourceMessage): a batch
 * whose records are Buffers (see encodedBatch) is written around their
 * bytes, which are the encoding of each record already, so the owner
 * encodes a change once, when it is logged, however many times it is sent,
 * and a full copy or a handback sends packed sessions as they are. Any
 * other message goes to `next`.
 */
export function spliceEncoded(next: Serialize, wrapField?: number): Serialize {
  return function serializeEncoded(value) {
    const batch = wrapField === undefined ? (value as RecordBatch) : (value as SourceMessage).batch;
    const records = batch?.records as unknown[] | undefined;
    if (batch === undefined || batch === null || records === undefined || records.length === 0 || !Buffer.isBuffer(records[0])) return next(value);
    return writeBatch(batch as Parameters<typeof writeBatch>[0], wrapField);
  };
}

/** A RecordBatch as the deserializer receiveDecoded installs gives it. */
export interface ReceivedBatch {
  readonly records: readonly ReceivedRecord[];
  readonly fullSyncDone: boolean;
  readonly sentAtMs: number;
}

const BATCH_FIELDS: FieldTable = [undefined, ['records', LENGTH_DELIMITED], ['full_sync_done', VARINT], ['sent_at_ms', VARINT]];

/** Decodes a baton.v1.RecordBatch, each record with decodeReceived; throws on bytes that are not one. */
export function decodeBatch(bytes: Buffer): ReceivedBatch {
  const reader = new WireReader('baton.v1.RecordBatch');
  reader.reset(bytes);
  const records: ReceivedRecord[] = [];
  let fullSyncDone = false;
  let sentAtMs = 0;
  while (reader.pos < reader.end) {
    const field = reader.field(BATCH_FIELDS);
    if (field === 1) {
      const start = reader.skipDelimited();
      records.push(decodeReceived(bytes.subarray(start, reader.pos)));
    } else if (field === 2) fullSyncDone = reader.int64(false) !== 0;
    else if (field === 3) sentAtMs = reader.int64(true);
    else reader.skip(reader.wireType);
  }
  return { records, fullSyncDone, sentAtMs };
}

/**
 * Wraps a deserializer of RecordBatches (Handback's), or, given `wrapField`,
 * of messages that may hold one in that field (Replicate's SourceMessage):
 * a batch is decoded by decodeBatch, straight into the records the engine
 * installs; a message that is anything but one batch (a welcome, a
 * heartbeat) goes to `next`. The counterpart of spliceEncoded: the replica
 * decodes each change once, without protobufjs's Long objects, object tree
 * and toObject copy. Read what it gives with receivedBatch().
 */
export function receiveDecoded(next: Deserialize, wrapField?: number): Deserialize {
  const wrapKey = wrapField === undefined ? undefined : (wrapField << 3) | LENGTH_DELIMITED;
  return function deserializeDecoded(bytes) {
    if (wrapKey === undefined) return decodeBatch(bytes);
    if (bytes.length === 0 || bytes[0] !== wrapKey) return next(bytes);
    const reader = new WireReader('baton.v1.SourceMessage');
    reader.reset(bytes);
    reader.pos = 1;
    const end = reader.delimitedEnd();
    if (end !== bytes.length) return next(bytes);
    return { batch: decodeBatch(bytes.subarray(reader.pos, end)), kind: 'batch' };
  };
}

/**
 * The records of a batch read with the deserializer receiveDecoded
 * installs (loadBatonProto does, for Replicate and Handback). Their type
 * says wire records because that is what the generated types know.
 */
export function receivedBatch(batch: RecordBatch__Output): ReceivedBatch {
  const first = batch.records[0] as unknown;
  if (first !== undefined && (typeof first !== 'object' || first === null || !('record' in first))) {
    throw new Error('a record batch was not read by the deserializer receiveDecoded installs');
  }
  return batch as unknown as ReceivedBatch;
}
