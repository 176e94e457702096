import { decodeRecord, encodeRecord } from '../replication/record-codec.js';
import type { SessionRecord } from './session-record.js';

/**
 * A session kept as its encoded record: the bytes encodeRecord writes (the
 * snapshot format). A node keeps sessions this way when they were loaded
 * from a snapshot and not touched since, or sat idle for --pack-idle-ms: a
 * run of bytes in its PackedStore instead of a record object, its state
 * string, its dedupe window and every entry in it. The engine unpacks a
 * session the moment anything reads or changes it.
 * docs/design-notes.md, "Idle sessions are kept encoded".
 */
export type PackedRecord = Buffer;

export function pack(record: SessionRecord): PackedRecord {
  return encodeRecord(record);
}

export function unpack(packed: PackedRecord): SessionRecord {
  return decodeRecord(packed);
}
