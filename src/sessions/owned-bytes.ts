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

/**
 * Copies several ranges of `bytes` (`ranges` holds start, end pairs) into
 * one allocation and returns a view of it per range (EMPTY_BYTES for an
 * empty one). For the buffers one session loads together, such as the
 * replies of its dedupe window: they are few bytes each, and one
 * allocation per reply costs more than the reply. A view pins the whole
 * block, but the block holds only that session's own bytes, so the most a
 * session can pin beyond what it uses is what it loaded (until the last of
 * those entries leaves its window).
 */
export function ownedSlices(bytes: Buffer, ranges: readonly number[]): Buffer[] {
  let total = 0;
  for (let i = 0; i < ranges.length; i += 2) total += (ranges[i + 1] as number) - (ranges[i] as number);
  const block = total === 0 ? EMPTY_BYTES : Buffer.allocUnsafeSlow(total);
  const views: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i] as number;
    const end = ranges[i + 1] as number;
    if (end === start) {
      views.push(EMPTY_BYTES);
      continue;
    }
    bytes.copy(block, at, start, end);
    views.push(block.subarray(at, at + end - start));
    at += end - start;
  }
  return views;
}

/** The UTF-8 encoding of `text` in a buffer of its own (see ownedBytes). */
export function ownedUtf8(text: string): Buffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  out.write(text, 'utf8');
  return out;
}

/** One shared empty buffer, for empty replies. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
