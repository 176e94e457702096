/**
 * Buffers that a session keeps (state, replies, timer payloads) must own
 * their memory. Small Buffer.from() results are slices of Node's shared
 * 8 KiB pool, and one kept slice pins its whole slab: a 12-byte reply in a
 * dedupe window would hold 8 KiB of discarded encodings.
 */
export function ownedBytes(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  out.set(bytes);
  return out;
}

/** Copies `bytes[start, end)` into a buffer of its own (see ownedBytes). */
export function ownedSlice(bytes: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafeSlow(end - start);
  bytes.copy(out, 0, start, end);
  return out;
}

/** One shared empty buffer, for empty replies. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/**
 * `text` encoded in a buffer of its own (see ownedBytes): UTF-8 text, or a
 * byte string (see toByteString in session-record.ts) as latin1.
 */
export function ownedEncoded(text: string, encoding: 'utf8' | 'latin1'): Buffer {
  if (text.length === 0) return EMPTY_BYTES;
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(text, encoding));
  out.write(text, encoding);
  return out;
}
