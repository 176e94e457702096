import { decodeRecord, encodeRecord } from '../replication/record-codec.js';
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
  return encodeRecord(record).toString('latin1');
}

export function unpack(packed: PackedRecord): SessionRecord {
  return decodeRecord(Buffer.from(packed, 'latin1'));
}

/** The encoded record, as a snapshot stores it. */
export function packedBytes(packed: PackedRecord): Buffer {
  return Buffer.from(packed, 'latin1');
}

/** A varint of a packed record at `pos`: [value, next position]. Packed records were checked when packed. */
function varintAt(packed: string, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = packed.charCodeAt(pos++);
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
}

/**
 * The version and owner of a packed record, read off its top-level fields
 * without decoding it (the owner as bytes, one character per byte).
 */
export function packedHead(packed: PackedRecord): { version: number; owner: string } {
  let version = 0;
  let owner = '';
  let pos = 0;
  while (pos < packed.length) {
    const [tag, afterTag] = varintAt(packed, pos);
    const wireType = tag & 7;
    if (wireType === 0) {
      const [value, next] = varintAt(packed, afterTag);
      if (tag >>> 3 === 3) version = value;
      pos = next;
    } else if (wireType === 2) {
      const [length, start] = varintAt(packed, afterTag);
      if (tag >>> 3 === 4) owner = packed.slice(start, start + length);
      pos = start + length;
    } else pos = afterTag + (wireType === 1 ? 8 : 4);
  }
  return { version, owner };
}

/** An owner's node id in the form packedHead returns it (its UTF-8 bytes as a byte string). */
export function ownerKey(nodeId: string): string {
  return Buffer.from(nodeId, 'utf8').toString('latin1');
}
