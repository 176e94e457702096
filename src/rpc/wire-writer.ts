import { LENGTH_DELIMITED, VARINT } from './wire-reader.js';

/**
 * Writers of the protobuf wire format into a buffer sized beforehand, for
 * the messages this project encodes directly rather than through
 * protobufjs (records, record batches, apply batches and their answers).
 * Each returns the position after what it wrote; fields at their default
 * are left out, as proto3 does.
 */

/** Bytes of a varint; negative int64 values take the full ten. */
export function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  if (n < 0) {
    // int64 two's complement, as protobuf encodes a negative int64.
    let big = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      buf[pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    buf[pos++] = Number(big);
    return pos;
  }
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** A field's bytes: key (one byte, fields 1-15), length prefix where delimited, and content. */
export const delimitedSize = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length);
export const varintFieldSize = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n));

export function writeVarintField(buf: Buffer, pos: number, field: number, n: number): number {
  if (n === 0) return pos;
  buf[pos++] = (field << 3) | VARINT;
  return writeVarint(buf, pos, n);
}

/** A string field: UTF-8 text, or (latin1) a byte string of the record's own bytes. */
export function writeStringField(buf: Buffer, pos: number, field: number, text: string, length: number, encoding: 'utf8' | 'latin1'): number {
  if (length === 0) return pos;
  buf[pos++] = (field << 3) | LENGTH_DELIMITED;
  pos = writeVarint(buf, pos, length);
  return pos + buf.write(text, pos, length, encoding);
}

export function writeBytesField(buf: Buffer, pos: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return pos;
  buf[pos++] = (field << 3) | LENGTH_DELIMITED;
  pos = writeVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** A bytes field from bytes, or from a byte string (see toByteString in session-record.ts). */
export function writeBytesOrByteString(buf: Buffer, pos: number, field: number, value: string | Uint8Array): number {
  return typeof value === 'string' ? writeStringField(buf, pos, field, value, value.length, 'latin1') : writeBytesField(buf, pos, field, value);
}
