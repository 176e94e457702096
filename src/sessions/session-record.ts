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
  readonly reply: Buffer;
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
  state: Buffer;
  /** Pending timers, ordered by timer id. */
  timers: TimerEntry[];
  /** Most recent operations, oldest first, at most the node's dedupe window. */
  dedupe: DedupeEntry[];
  readonly createdAtMs: number;
  updatedAtMs: number;
}

export function findDedupe(record: SessionRecord, opId: string): DedupeEntry | undefined {
  // Newest first: a retry usually follows its original closely.
  for (let i = record.dedupe.length - 1; i >= 0; i--) {
    const entry = record.dedupe[i];
    if (entry !== undefined && entry.opId === opId) return entry;
  }
  return undefined;
}

/** Remembers an operation, dropping the oldest beyond `window` entries. */
export function rememberOperation(record: SessionRecord, entry: DedupeEntry, window: number): void {
  record.dedupe.push(entry);
  if (record.dedupe.length > window) record.dedupe.splice(0, record.dedupe.length - window);
}
