import { EMPTY_BYTES } from './owned-bytes.js';

/**
 * The unit Baton stores, replicates, snapshots and hands off. Everything a
 * node needs to continue a session after a failover is in here: state bytes,
 * pending timers and the dedupe window. State is kept encoded: decoding a
 * fresh copy per operation makes a failed apply unable to corrupt it, and the
 * bytes are what replication ships anyway.
 */
export interface TimerEntry {
  readonly timerId: string;
  /** Absolute deadline, ms since the Unix epoch. */
  readonly deadlineMs: number;
  /** The operation to apply when the timer fires, encoded by the handler's codec. */
  readonly payload: Buffer;
}

/** A remembered operation: a retry with the same op id gets this reply back. */
export interface DedupeEntry {
  readonly opId: string;
  /** opIdTag(opId): what a lookup compares first (see findDedupe). */
  readonly tag: number;
  /** Session version the operation produced. */
  readonly version: number;
  /**
   * The reply's bytes as a byte string (one character per byte, see
   * toByteString): a window holds up to 32 of them per session, and a
   * Buffer costs about 300 bytes of objects around its bytes, a string 16.
   */
  readonly reply: string;
}

/** Bytes as a string of one character per byte (latin1), for keeping. */
export function toByteString(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('latin1');
}

/** The bytes of a byte string (see toByteString), for passing on now. */
export function fromByteString(text: string): Buffer {
  return text.length === 0 ? EMPTY_BYTES : Buffer.from(text, 'latin1');
}

export interface SessionRecord {
  readonly sessionId: string;
  readonly sessionType: string;
  /** Incremented by every applied operation and every fired timer; 0 after open. */
  version: number;
  /** Schema version of the handler that wrote `state`. */
  schemaVersion: number;
  /** Node id of the owner. */
  owner: string;
  /** Owner's cluster epoch when it last wrote the record (0 until clustering). */
  epoch: number;
  /**
   * The state as the handler's codec encoded it, kept as a byte string (see
   * toByteString): a Buffer would add its view, its ArrayBuffer and two
   * native allocations to every session.
   */
  state: string;
  /** Pending timers, ordered by timer id. Replaced on change, never changed in place. */
  timers: readonly TimerEntry[];
  /**
   * Most recent operations, oldest first, at most the node's dedupe window.
   * Once full, shifted in place by each operation (rememberOperation):
   * whatever reads it (replication, snapshots, a handback, ListRecords)
   * encodes or copies it in the same turn, and no two records share one.
   */
  dedupe: readonly DedupeEntry[];
  readonly createdAtMs: number;
  updatedAtMs: number;
}

/**
 * A 32-bit hash of an operation id (FNV-1a over its UTF-16 code units).
 * Entries keep it so that a lookup compares numbers held in the entries
 * and never reads the ids' strings unless the tags match.
 */
export function opIdTag(opId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < opId.length; i++) h = Math.imul(h ^ opId.charCodeAt(i), 0x01000193);
  return h;
}

/** A dedupe entry for `opId`, with its tag (computed unless the caller has it). */
export function dedupeEntry(opId: string, version: number, reply: string, tag = opIdTag(opId)): DedupeEntry {
  return { opId, tag, version, reply };
}

/**
 * The remembered operation `opId`, newest first (a retry usually follows its
 * original closely). Every operation looks up a full window of misses, and
 * the entries, their ids and the ids' backing strings lie scattered over
 * the heap, allocated one operation at a time: comparing ids (even by
 * length and last character first) read three objects per entry and cost
 * more than the rest of applying an operation. Tags are compared first,
 * from the entries alone (bench/micro/dedupe-lookup.mjs measures both
 * shapes of window it was slowest on).
 */
export function findDedupe(record: SessionRecord, opId: string, tag = opIdTag(opId)): DedupeEntry | undefined {
  for (let i = record.dedupe.length - 1; i >= 0; i--) {
    const entry = record.dedupe[i] as DedupeEntry;
    if (entry.tag === tag && entry.opId === opId) return entry;
  }
  return undefined;
}

/**
 * Shared empty arrays for records without timers or remembered operations:
 * an empty array of its own costs every such session about 32 bytes.
 */
export const NO_TIMERS: readonly TimerEntry[] = Object.freeze([]);
export const NO_OPERATIONS: readonly DedupeEntry[] = Object.freeze([]);

/**
 * Remembers an operation, dropping the oldest beyond `window` entries.
 *
 * A full window is shifted in place. Why: a session that has seen a window's
 * worth of operations stays full, and a new array per operation was the
 * largest allocation of an owner's apply (a pointer per entry), most of it
 * still alive at the next scavenge and copied by it.
 *
 * A window that is not full is rebuilt at its exact length: growing it in
 * place would reserve room for 17 entries on the first push (V8's growth
 * step), about 140 bytes a session for a window that mostly holds one or
 * two. (The shared empty window is never full: a window holds at least one.)
 */
export function rememberOperation(record: SessionRecord, entry: DedupeEntry, window: number): void {
  const old = record.dedupe;
  if (old.length === window) {
    const entries = old as DedupeEntry[];
    for (let i = 1; i < window; i++) entries[i - 1] = entries[i] as DedupeEntry;
    entries[window - 1] = entry;
    return;
  }
  const keep = Math.min(old.length, window - 1);
  const next = new Array<DedupeEntry>(keep + 1);
  for (let i = 0; i < keep; i++) next[i] = old[old.length - keep + i] as DedupeEntry;
  next[keep] = entry;
  record.dedupe = next;
}

/**
 * The dedupe window after a replicated change: `held`'s entries, then
 * those of `delta` (a change's new entries) newer than `heldVersion`, at
 * most `window` of them, the newest kept. One array, sized once: the
 * replica runs this for every change it receives.
 *
 * With `reuseHeld`, for a window dropped with its record (the replica
 * replaces the record on every change), a full `held` takes the new
 * entries in place, shifted as rememberOperation shifts an owner's, and is
 * returned: no array per change once a session's window is full.
 */
export function mergeDedupe(
  held: readonly DedupeEntry[],
  delta: readonly DedupeEntry[],
  heldVersion: number,
  window: number,
  reuseHeld = false,
): DedupeEntry[] {
  let newer = 0;
  for (const d of delta) if (d.version > heldVersion) newer += 1;
  const length = Math.min(held.length + newer, window);
  // Reused, the held entries move forward within their own array: each is read before its place is written.
  const out = reuseHeld && held.length === window ? (held as DedupeEntry[]) : new Array<DedupeEntry>(length);
  // The oldest that do not fit: held ones first, then new ones.
  const drop = held.length + newer - length;
  let at = 0;
  for (let i = Math.min(drop, held.length); i < held.length; i++) out[at++] = held[i] as DedupeEntry;
  let skip = Math.max(0, drop - held.length);
  for (const d of delta) {
    if (d.version <= heldVersion) continue;
    if (skip > 0) skip -= 1;
    else out[at++] = d;
  }
  return out;
}
