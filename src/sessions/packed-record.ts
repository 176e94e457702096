import { decodeRecord, encodeRecord } from '../replication/record-codec.js';
import { fromByteString, toByteString } from './session-record.js';
import type { SessionRecord } from './session-record.js';

/**
 * A session kept as its encoded record: the bytes encodeRecord writes (the
 * snapshot format) as a byte string, one character per byte. A node keeps
 * sessions this way when they were loaded from a snapshot and not touched
 * since, or sat idle for --pack-idle-ms: one string instead of a record
 * object, its state string, its dedupe window and every entry in it. The
 * engine unpacks a session the moment anything reads or changes it.
 * docs/design-notes.md, "Idle sessions are kept encoded".
 */
export type PackedRecord = string;

export function pack(record: SessionRecord): PackedRecord {
  return toByteString(encodeRecord(record));
}

export function unpack(packed: PackedRecord): SessionRecord {
  return decodeRecord(packedBytes(packed));
}

/** The encoded record, as a snapshot stores it. */
export function packedBytes(packed: PackedRecord): Buffer {
  return fromByteString(packed);
}
