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
   * Replaced on change, never changed in place, so a copy handed to
   * replication or a snapshot stays as it was.
   */
  dedupe: readonly DedupeEntry[];
  readonly createdAtMs: number;
  updatedAtMs: number;
}

export function findDedupe(record: SessionRecord, opId: string): DedupeEntry | undefined {
  const n = opId.length;
  const last = opId.charCodeAt(n - 1);
  // Newest first: a retry usually follows its original closely. One
  // client's ids share a long prefix and differ at the end ("<client>:<n>"),
  // so the length and the last character reject most entries before a full
  // comparison: about 4x faster than comparing whole ids over a full window
  // of 32 (bench/micro/dedupe-lookup.mjs), on every operation.
  for (let i = record.dedupe.length - 1; i >= 0; i--) {
    const entry = record.dedupe[i] as DedupeEntry;
    const id = entry.opId;
    if (id.length === n && id.charCodeAt(n - 1) === last && id === opId) return entry;
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
 * Remembers an operation, dropping the oldest beyond `window` entries. The
 * window is rebuilt at its exact length: growing it in place would reserve
 * room for 17 entries on the first push (V8's growth step), about 140 bytes
 * a session for a window that mostly holds one or two.
 */
export function rememberOperation(record: SessionRecord, entry: DedupeEntry, window: number): void {
  const old = record.dedupe;
  const keep = Math.min(old.length, window - 1);
  const next = new Array<DedupeEntry>(keep + 1);
  for (let i = 0; i < keep; i++) next[i] = old[old.length - keep + i] as DedupeEntry;
  next[keep] = entry;
  record.dedupe = next;
}
