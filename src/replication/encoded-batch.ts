import type { RecordBatch, RecordBatch__Output } from '../generated/baton/v1/RecordBatch.js';
import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import type { SourceMessage } from '../generated/baton/v1/SourceMessage.js';
import { decodeReceived } from './record-codec.js';
import type { ReceivedRecord } from './record-codec.js';
import { LENGTH_DELIMITED, VARINT, WireReader } from '../rpc/wire-reader.js';
import type { FieldTable } from '../rpc/wire-reader.js';
import { varintSize, writeVarint } from '../rpc/wire-writer.js';

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** Protobuf keys: field number << 3 | wire type. Replicate's SourceMessage carries its RecordBatch in field 2. */
export const SOURCE_BATCH_KEY = (2 << 3) | 2;
const BATCH_RECORD_KEY = (1 << 3) | 2;
const BATCH_FULL_SYNC_DONE_KEY = (2 << 3) | 0;
const BATCH_SENT_AT_KEY = (3 << 3) | 0;

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
 * behind `wrapKey` when it is the field of an enclosing message.
 */
function writeBatch(batch: { records?: unknown[] | null; fullSyncDone?: boolean | null; sentAtMs?: number | string | null }, wrapKey?: number): Buffer {
  const encoded = (batch.records ?? []) as Buffer[];
  const sentAtMs = Number(batch.sentAtMs ?? 0);
  const fullSyncDone = batch.fullSyncDone === true;
  let inner = (fullSyncDone ? 2 : 0) + (sentAtMs > 0 ? 1 + varintSize(sentAtMs) : 0);
  for (const r of encoded) {
    if (!Buffer.isBuffer(r)) throw new Error('a batch of encoded records holds one that is not encoded');
    inner += 1 + varintSize(r.length) + r.length;
  }
  const out = Buffer.allocUnsafe(wrapKey === undefined ? inner : 1 + varintSize(inner) + inner);
  let pos = 0;
  if (wrapKey !== undefined) {
    out[pos++] = wrapKey;
    pos = writeVarint(out, pos, inner);
  }
  for (const r of encoded) {
    out[pos++] = BATCH_RECORD_KEY;
    pos = writeVarint(out, pos, r.length);
    pos += r.copy(out, pos);
  }
  if (fullSyncDone) {
    out[pos++] = BATCH_FULL_SYNC_DONE_KEY;
    out[pos++] = 1;
  }
  if (sentAtMs > 0) {
    out[pos++] = BATCH_SENT_AT_KEY;
    pos = writeVarint(out, pos, sentAtMs);
  }
  if (pos !== out.length) throw new Error(`a batch of encoded records took ${pos} bytes of ${out.length}`);
  return out;
}

/**
 * Wraps a serializer of RecordBatches (Handback's), or, given `wrapKey`, of
 * messages holding one in that field (Replicate's SourceMessage): a batch
 * whose records are Buffers (see encodedBatch) is written around their
 * bytes, which are the encoding of each record already, so the owner
 * encodes a change once, when it is logged, however many times it is sent,
 * and a full copy or a handback sends packed sessions as they are. Any
 * other message goes to `next`.
 */
export function spliceEncoded(next: Serialize, wrapKey?: number): Serialize {
  return function serializeEncoded(value) {
    const batch = wrapKey === undefined ? (value as RecordBatch) : (value as SourceMessage).batch;
    const records = batch?.records as unknown[] | undefined;
    if (batch === undefined || batch === null || records === undefined || records.length === 0 || !Buffer.isBuffer(records[0])) return next(value);
    return writeBatch(batch as Parameters<typeof writeBatch>[0], wrapKey);
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
    else if (field === 0) throw reader.fail('field number 0');
    else reader.skip(reader.wireType);
  }
  return { records, fullSyncDone, sentAtMs };
}

/**
 * Wraps a deserializer of RecordBatches (Handback's), or, given `wrapKey`,
 * of messages that may hold one in that field (Replicate's SourceMessage):
 * a batch is decoded by decodeBatch, straight into the records the engine
 * installs; a message that is anything but one batch (a welcome, a
 * heartbeat) goes to `next`. The counterpart of spliceEncoded: the replica
 * decodes each change once, without protobufjs's Long objects, object tree
 * and toObject copy. Read what it gives with receivedBatch().
 */
export function receiveDecoded(next: Deserialize, wrapKey?: number): Deserialize {
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
