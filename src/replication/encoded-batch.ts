import type { RecordBatch } from '../generated/baton/v1/RecordBatch.js';
import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import type { SourceMessage } from '../generated/baton/v1/SourceMessage.js';
import { varintSize, writeVarint } from './record-codec.js';

type Serialize = (value: unknown) => Buffer;

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
