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

/**
 * The key and length of a length-delimited field, written even when the
 * length is 0 (an embedded message that is present but empty); its
 * `length` bytes of content follow.
 */
export function writeDelimitedHead(buf: Buffer, pos: number, field: number, length: number): number {
  buf[pos++] = (field << 3) | LENGTH_DELIMITED;
  return writeVarint(buf, pos, length);
}

/**
 * Longest string written one character at a time: below this a loop in
 * JavaScript beats Buffer#write's call into C++ (about 25 against 90 ns for
 * a 12-character id, and 66 against 91 for 23 characters, in a one-off
 * timing loop on the benchmarks' machine); above it the copy wins.
 */
const SHORT_STRING_CHARS = 24;

/**
 * A string field: UTF-8 text (`length` its UTF-8 byte length), or (latin1)
 * a byte string of the record's own bytes. Ids, types and small states are
 * short: when every character is one byte (all of a byte string; UTF-8 text
 * whose byte length is its length, so ASCII), they are copied in a loop.
 */
export function writeStringField(buf: Buffer, pos: number, field: number, text: string, length: number, encoding: 'utf8' | 'latin1'): number {
  if (length === 0) return pos;
  pos = writeDelimitedHead(buf, pos, field, length);
  if (length <= SHORT_STRING_CHARS && length === text.length) {
    for (let i = 0; i < length; i++) buf[pos + i] = text.charCodeAt(i);
    return pos + length;
  }
  return pos + buf.write(text, pos, length, encoding);
}

export function writeBytesField(buf: Buffer, pos: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return pos;
  pos = writeDelimitedHead(buf, pos, field, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** A bytes field from bytes, or from a byte string (see toByteString in session-record.ts). */
export function writeBytesOrByteString(buf: Buffer, pos: number, field: number, value: string | Uint8Array): number {
  return typeof value === 'string' ? writeStringField(buf, pos, field, value, value.length, 'latin1') : writeBytesField(buf, pos, field, value);
}

/**
 * The numbers a two-pass encoder measures (string lengths, the sizes of
 * embedded messages) in its first pass, read back in the same order by its
 * second, so nothing is measured twice. Kept from message to message
 * (encoders are synchronous and each has its own), so once it has grown,
 * measuring allocates nothing.
 */
export class Measured {
  private readonly values: number[] = [];
  private count = 0;
  private read = 0;

  /** Starts a message's first pass. */
  reset(): void {
    this.count = 0;
    this.read = 0;
  }

  /** Records `n`; returns it. */
  add(n: number): number {
    this.values[this.count++] = n;
    return n;
  }

  /** Keeps the next place for a number known later in the pass (an enclosing message's size); fill it with set(). */
  reserve(): number {
    this.add(0);
    return this.count - 1;
  }

  /** Fills a place reserve() kept; returns `n`. */
  set(at: number, n: number): number {
    this.values[at] = n;
    return n;
  }

  /** The next number recorded, in order (second pass). */
  next(): number {
    return this.values[this.read++] as number;
  }
}
