import type { Codec } from './handler.js';
import { jsonCodec } from './handler.js';
import { fromByteString, toByteString } from './session-record.js';

/**
 * A handler's codec as the engine applies it: values to and from byte
 * strings (see toByteString in session-record.ts), the form in which a
 * record keeps its state and the replies of its dedupe window. Either
 * method throws what the handler's codec throws.
 */
export interface ByteStringCodec {
  decode(byteString: string): unknown;
  encode(value: unknown): string;
}

/**
 * Whether every character of `text` is ASCII: then its UTF-8 bytes, read
 * back as latin1, are `text` itself. (A character past 0x7f takes two or
 * more UTF-8 bytes, so the byte count exceeds the length.)
 */
export function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/**
 * The default JSON codec on byte strings. Why: JSON text is nearly always
 * ASCII, and ASCII text is its own byte string, so an operation decodes its
 * state with one JSON.parse and encodes state and reply with one
 * JSON.stringify each. Through the Buffer codec, every operation also
 * copied the state into a buffer and back out and allocated two buffers of
 * their own, which cost more than the JSON itself. Non-ASCII text takes the
 * long way and gives the same bytes.
 */
export const jsonByteStrings: ByteStringCodec = {
  decode(byteString: string): unknown {
    return JSON.parse(isAscii(byteString) ? byteString : Buffer.from(byteString, 'latin1').toString('utf8')) as unknown;
  },
  encode(value: unknown): string {
    // JSON.stringify(undefined) is undefined: stored as null, as jsonCodec does.
    const text = (JSON.stringify(value) as string | undefined) ?? 'null';
    return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
  },
};

/** `codec` on byte strings: the JSON fast path for the default, a copy through buffers for any other. */
export function byteStringsOf(codec: Codec): ByteStringCodec {
  if (codec === jsonCodec) return jsonByteStrings;
  return {
    decode: (byteString) => codec.decode(fromByteString(byteString)),
    encode: (value) => toByteString(codec.encode(value)),
  };
}
