import { EMPTY_BYTES } from '../sessions/owned-bytes.js';

/**
 * A bounds-checked reader of the protobuf wire format, for the messages
 * this project decodes directly rather than through protobufjs: snapshot
 * and replicated records, the batches that carry them, apply batches and
 * their answers.
 */

/** Wire types of the protobuf encoding. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

const TWO_POW_32 = 4_294_967_296;

/**
 * Reads the protobuf wire format from one buffer. Every read is bounds
 * checked against `end`: bytes that are not a message throw, they are never
 * read past.
 */
export class WireReader {
  buf: Buffer = EMPTY_BYTES;
  pos = 0;
  end = 0;

  /** Starts reading `buf` from its first byte. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  /** `message`: the type read, as errors name it (e.g. baton.v1.SessionRecord). */
  constructor(private readonly message: string) {}

  fail(what: string): Error {
    return new Error(`not a ${this.message}: ${what} at byte ${this.pos}`);
  }

  /** A varint of at most 32 bits (tags, lengths, uint32 fields). */
  uint32(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw this.fail('truncated varint');
      const b = buf[pos++] as number;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    // A longer varint is a 64-bit value; only its low 32 bits count.
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw this.fail('truncated varint');
      if ((buf[pos++] as number) < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /**
   * A 64-bit varint as a number, as protobufjs converts it (exact up to
   * 2^53). `signed`: int64, whose negative values are ten bytes long.
   */
  int64(signed: boolean): number {
    const { buf, end } = this;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw this.fail('truncated varint');
      const b = buf[pos++] as number;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x7f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        if (signed && hi < 0) {
          // Two's complement: -(~value + 1).
          const negLo = (~lo + 1) >>> 0;
          let negHi = ~hi >>> 0;
          if (negLo === 0) negHi = (negHi + 1) >>> 0;
          return -(negLo + negHi * TWO_POW_32);
        }
        return (lo >>> 0) + (hi >>> 0) * TWO_POW_32;
      }
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** Reads a length prefix; returns where the length-delimited value ends. */
  delimitedEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) throw this.fail(`length ${length} runs past the end`);
    return end;
  }

  /** Skips a length-delimited value; returns where it starts (it ends at `pos`). */
  skipDelimited(): number {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    return start;
  }

  /** Enters an embedded message: reads stop at its end until `leave(outer)`; returns the outer end. */
  enter(): number {
    const outer = this.end;
    this.end = this.delimitedEnd();
    return outer;
  }

  leave(outer: number): void {
    this.end = outer;
  }

  string(): string {
    const end = this.delimitedEnd();
    const text = end === this.pos ? '' : this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  }

  /** Skips a field this decoder does not keep. */
  skip(wireType: number): void {
    if (wireType === VARINT) this.int64(false);
    else if (wireType === LENGTH_DELIMITED) this.skipDelimited();
    else if (wireType === FIXED64 || wireType === FIXED32) {
      const end = this.pos + (wireType === FIXED64 ? 8 : 4);
      if (end > this.end) throw this.fail('truncated fixed-width field');
      this.pos = end;
    } else throw this.fail(`wire type ${wireType}`);
  }

  /** Wire type of the field whose tag field() read last. */
  wireType = 0;

  /**
   * Reads a field's tag and checks its wire type against `fields` (fields
   * not listed are not checked, and are skipped by the caller); returns the
   * field number, never 0 (no message has a field 0: such bytes throw).
   */
  field(fields: FieldTable): number {
    const tag = this.uint32();
    const number = tag >>> 3;
    if (number === 0) throw this.fail('field number 0');
    this.wireType = tag & 7;
    const spec = fields[number];
    if (spec !== undefined && spec[1] !== this.wireType) throw this.fail(`wire type ${this.wireType} for ${spec[0]}`);
    return number;
  }
}

/** The fields a decoder reads, by field number: name and wire type. */
export type FieldTable = readonly (readonly [name: string, wireType: number] | undefined)[];
