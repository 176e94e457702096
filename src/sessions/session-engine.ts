import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  BatonError,
  HandlerFailedError,
  InvalidArgumentError,
  LimitExceededError,
  MalformedPayloadError,
  NodeStoppingError,
  OperationRejectedError,
  SchemaTooNewError,
  NotOwnerError,
  RetrySoonError,
  SessionExistsError,
  SessionNotFoundError,
} from '../errors.js';
import type { EngineOptions } from './engine-options.js';
import { MAX_ID_LENGTH } from './engine-options.js';
import type { ApplyContext, InitContext, TimerInfo } from './handler.js';
import type { HandlerRegistry, LoadedHandler } from './handler-registry.js';
import { dedupeEntry, findDedupe, fromByteString, mergeDedupe, NO_OPERATIONS, NO_TIMERS, opIdTag, rememberOperation } from './session-record.js';
import type { SessionRecord, TimerEntry } from './session-record.js';
import { ownedBytes } from './owned-bytes.js';
import { encodeRecord, scanRecord } from '../replication/record-codec.js';
import { pack, unpack } from './packed-record.js';
import type { PackedRecord } from './packed-record.js';
import { PackedStore } from './packed-store.js';
import type { PackedSlot, PackedStoreStats } from './packed-store.js';
import { TimerQueue } from './timer-queue.js';
import type { DueTimer } from './timer-queue.js';

/** Bytes with their content type, as they travel on the wire. */
export interface Payload {
  readonly data: Buffer;
  /** Empty means "the handler's content type". */
  readonly contentType: string;
}

export interface OpenCommand {
  readonly sessionType: string;
  /** Empty: the engine generates one. */
  readonly sessionId: string;
  /** Empty data: init() gets undefined. */
  readonly params: Payload;
  /** Empty: the open is not deduplicated. */
  readonly opId: string;
}

export interface ApplyCommand {
  readonly sessionId: string;
  readonly opId: string;
  readonly op: Payload;
}

export interface CloseCommand {
  readonly sessionId: string;
  readonly opId: string;
}

export interface OpenOutcome {
  readonly record: SessionRecord;
  readonly deduplicated: boolean;
}

export interface ApplyOutcome {
  readonly version: number;
  readonly reply: Buffer;
  readonly contentType: string;
  readonly deduplicated: boolean;
}

/**
 * Where sessions live: who owns new sessions, and the session address of a
 * node by id (for "not the owner, ask node X" answers).
 */
export interface Placement {
  /** Undefined: this node opens new sessions itself; otherwise redirect there. */
  newSessionsGoTo(): { readonly nodeId: string; readonly address: string | undefined } | undefined;
  addressOf(nodeId: string): string | undefined;
}

const LOCAL_PLACEMENT: Placement = {
  newSessionsGoTo: () => undefined,
  addressOf: () => undefined,
};

/** What changed in a session this node owns: for watchers and replication. */
export type EngineEvent =
  | {
      readonly type: 'opened';
      readonly record: SessionRecord;
      readonly opId: string;
    }
  | {
      readonly type: 'changed';
      readonly record: SessionRecord;
      readonly opId: string;
      /** The reply as a byte string (the record's state is the state after the change). */
      readonly reply: string;
      /** Set when a timer fired. */
      readonly timerId: string | undefined;
    }
  | { readonly type: 'closed'; readonly record: SessionRecord; readonly opId: string };

export type EngineListener = (event: EngineEvent) => void;

export interface EngineStats {
  readonly sessions: number;
  readonly sessionsOwned: number;
  /** Sessions kept encoded (loaded from a snapshot or idle; see packed-record.ts). */
  readonly sessionsPacked: number;
  /** Where their bytes are (see packed-store.ts). */
  readonly packedStore: PackedStoreStats;
  readonly pendingTimers: number;
  readonly operationsApplied: number;
  readonly operationsRefused: number;
}

const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

function checkId(field: string, value: string, pattern?: RegExp): void {
  if (value.length === 0) throw new InvalidArgumentError(field, 'must not be empty');
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidArgumentError(field, `is ${value.length} characters long; at most ${MAX_ID_LENGTH} are accepted`);
  }
  if (pattern !== undefined && !pattern.test(value)) {
    throw new InvalidArgumentError(field, `"${value}" has characters outside [A-Za-z0-9._:-]`);
  }
}

/** A codec's output as a buffer the session may keep (JSON's already is). */
function keep(bytes: Buffer): Buffer {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : ownedBytes(bytes);
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Working copy of a session's timers during one init/apply: committed only
 * when the handler returns normally.
 */
class OperationContext implements ApplyContext, InitContext {
  /** Created on the first timer call: most operations never touch timers. */
  private changed: Map<string, TimerEntry> | undefined;

  constructor(
    readonly sessionId: string,
    readonly version: number,
    readonly nowMs: number,
    readonly timer: TimerInfo | undefined,
    private readonly initial: readonly TimerEntry[],
    private readonly loaded: LoadedHandler,
    private readonly options: EngineOptions,
  ) {}

  private get working(): Map<string, TimerEntry> {
    this.changed ??= new Map(this.initial.map((t) => [t.timerId, t]));
    return this.changed;
  }

  timers(): readonly TimerInfo[] {
    const all = this.changed === undefined ? this.initial : [...this.changed.values()];
    return all.map(({ timerId, deadlineMs }) => ({ timerId, deadlineMs }));
  }

  setTimer(timerId: string, deadlineMs: number, payload: unknown): void {
    if (typeof timerId !== 'string') throw new HandlerFailedError('setTimer: timerId must be a string');
    checkId('timerId', timerId);
    if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs)) {
      throw new HandlerFailedError(`setTimer("${timerId}"): deadlineMs must be a finite number of ms since the epoch`);
    }
    if (!this.working.has(timerId) && this.working.size >= this.options.maxTimersPerSession) {
      throw new LimitExceededError(
        'ERR_TOO_MANY_TIMERS',
        `session "${this.sessionId}" would have more than ${this.options.maxTimersPerSession} timers; cancel some first`,
        this.options.maxTimersPerSession,
        this.working.size + 1,
      );
    }
    let encoded: Buffer;
    try {
      encoded = keep(this.loaded.codec.encode(payload));
    } catch (err) {
      throw new HandlerFailedError(`setTimer("${timerId}"): payload cannot be encoded: ${errorMessage(err)}`, { cause: err });
    }
    if (encoded.length > this.options.maxOperationBytes) {
      throw new LimitExceededError(
        'ERR_OPERATION_TOO_LARGE',
        `timer "${timerId}" payload is ${encoded.length} bytes; operations are limited to ${this.options.maxOperationBytes}`,
        this.options.maxOperationBytes,
        encoded.length,
      );
    }
    this.working.set(timerId, { timerId, deadlineMs: Math.floor(deadlineMs), payload: encoded });
  }

  cancelTimer(timerId: string): boolean {
    return this.working.delete(timerId);
  }

  /** The timers after this operation, ordered by id (the initial array when untouched). */
  sortedTimers(): readonly TimerEntry[] {
    if (this.changed === undefined) return this.initial;
    if (this.changed.size === 0) return NO_TIMERS;
    return [...this.changed.values()].sort((a, b) => (a.timerId < b.timerId ? -1 : a.timerId > b.timerId ? 1 : 0));
  }
}

/**
 * Holds a node's sessions and applies operations to them through their
 * handlers. Every method is synchronous: one operation is applied entirely
 * (decode, handler, encode, limits, commit) before the next starts, so a
 * session is never seen half-changed.
 */
export class SessionEngine {
  /**
   * Every session, as its record object or, while untouched, packed: the
   * slot of its encoded record in `store` (see packed-record.ts).
   */
  private readonly sessions = new Map<string, SessionRecord | PackedSlot>();
  private readonly store = new PackedStore();
  private packed = 0;
  /** Where packIdle() goes on; undefined between passes. */
  private packSweep: Iterator<[string, SessionRecord | PackedSlot]> | undefined;
  private readonly watchers = new Map<string, Set<EngineListener>>();
  private readonly listeners: EngineListener[] = [];
  private readonly timerQueue: TimerQueue;
  private accepting = true;
  private notAccepting: Error | undefined;
  private owned = 0;
  private applied = 0;
  private refused = 0;

  constructor(
    private readonly options: EngineOptions,
    private readonly registry: HandlerRegistry,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly placement: Placement = LOCAL_PLACEMENT,
  ) {
    this.timerQueue = new TimerQueue((due) => this.fireTimer(due), now);
  }

  /** Cluster epoch stamped on records this node writes. */
  epoch = 0;

  start(): void {
    this.timerQueue.start();
  }

  /** Refuses new work from now on (ERR_NODE_STOPPING) and stops firing timers. */
  stopAccepting(): void {
    this.accepting = false;
    this.notAccepting = undefined;
    this.timerQueue.stop();
  }

  /** Refuses work with ERR_RETRY_SOON until resume() (e.g. while catching up). */
  pause(reason: string): void {
    this.accepting = false;
    this.notAccepting = new RetrySoonError(`node ${this.options.nodeId} is ${reason}; retry shortly`);
  }

  resume(): void {
    this.accepting = true;
    this.notAccepting = undefined;
  }

  /**
   * Stores a record replicated from (or handed back by) another node, without
   * running handler code. An older version than the one held is ignored. When
   * the record is owned by this node it is adopted: its timers are scheduled.
   * `dedupeComplete` false means `record.dedupe` holds only new entries.
   */
  install(record: SessionRecord, dedupeComplete: boolean): boolean {
    const existing = this.live(record.sessionId);
    if (existing !== undefined && existing.version > record.version) return false;
    if (existing !== undefined && existing.owner === this.options.nodeId && record.owner !== this.options.nodeId) {
      this.logger.warn(
        { sessionId: record.sessionId, from: record.owner },
        'ignored a replicated record of a session this node owns',
      );
      return false;
    }
    if (!dedupeComplete && existing !== undefined) {
      // The existing record is dropped below, so its window is free to reuse.
      record.dedupe = mergeDedupe(existing.dedupe, record.dedupe, existing.version, this.options.dedupeWindow, true);
    }
    if (existing !== undefined) this.forget(existing);
    this.sessions.set(record.sessionId, record);
    if (record.owner === this.options.nodeId) {
      this.owned += 1;
      for (const t of record.timers) this.timerQueue.schedule(record.sessionId, t.timerId, t.deadlineMs);
    }
    return true;
  }

  /**
   * Stores a record loaded from a snapshot as it is, packed: it is decoded
   * the first time anything touches it. `owner` and `timers` (how many it
   * holds) are what scanRecord read off it. A session already held, or
   * owned here with timers to schedule, is installed decoded instead.
   */
  installPacked(packed: PackedRecord, sessionId: string, owner: string, timers: number): boolean {
    if (this.sessions.has(sessionId) || (timers > 0 && owner === this.options.nodeId)) return this.install(unpack(packed), true);
    this.sessions.set(sessionId, this.store.add(packed));
    this.packed += 1;
    if (owner === this.options.nodeId) this.owned += 1;
    return true;
  }

  /** Drops a record (a replicated close, or a resync that replaces a peer's sessions). */
  remove(sessionId: string): void {
    const existing = this.live(sessionId);
    if (existing === undefined) return;
    this.forget(existing);
    this.sessions.delete(sessionId);
    const set = this.watchers.get(sessionId);
    if (set !== undefined && existing.owner !== this.options.nodeId) {
      for (const listener of [...set]) listener({ type: 'closed', record: existing, opId: '' });
    }
  }

  /**
   * The sessions owned by `nodeId` (this node's own, or the peer's
   * replicas) as they are held: record objects, which change in place (copy
   * what must stay as of now before yielding), and packed records (views of
   * their bytes), which never change, so a caller can decode them later, a
   * few at a time.
   */
  heldBy(nodeId: string): (SessionRecord | PackedRecord)[] {
    return this.entriesOwnedBy(nodeId).map(([, entry]) => entry);
  }

  /** The ids of the sessions owned by `nodeId`, without unpacking any. */
  idsOwnedBy(nodeId: string): string[] {
    return this.entriesOwnedBy(nodeId).map(([id]) => id);
  }

  private entriesOwnedBy(nodeId: string): [string, SessionRecord | PackedRecord][] {
    const out: [string, SessionRecord | PackedRecord][] = [];
    for (const [id, entry] of this.sessions) {
      if (typeof entry !== 'number') {
        if (entry.owner === nodeId) out.push([id, entry]);
        continue;
      }
      // A packed record's owner is read off its bytes, not decoded.
      const bytes = this.store.bytes(entry);
      if (scanRecord(bytes).owner === nodeId) out.push([id, bytes]);
    }
    return out;
  }

  /** Every record, owned or replicated; packed ones are decoded for the caller and stay packed. */
  *records(): IterableIterator<SessionRecord> {
    for (const entry of this.sessions.values()) yield typeof entry === 'number' ? unpack(this.store.bytes(entry)) : entry;
  }

  /**
   * A session this node owns as a snapshot stores it: its version and
   * encoded record (a packed one as it is). Undefined when it is gone or
   * owned elsewhere.
   */
  snapshotOf(sessionId: string): { version: number; payload: Buffer } | undefined {
    const entry = this.sessions.get(sessionId);
    if (entry === undefined) return undefined;
    if (typeof entry !== 'number') {
      return entry.owner === this.options.nodeId ? { version: entry.version, payload: encodeRecord(entry) } : undefined;
    }
    const payload = this.store.bytes(entry);
    const { version, owner } = scanRecord(payload);
    return owner === this.options.nodeId ? { version, payload } : undefined;
  }

  /**
   * Packs the records nobody changed for `idleMs` (see packed-record.ts;
   * Infinity packs none), and moves packed ones out of the store's chunks
   * being emptied (see packed-store.ts), visiting at most `budget` sessions
   * from where the last call stopped, so a pass over many sessions spreads
   * over turns of the event loop. Returns true when the pass is complete.
   */
  packIdle(idleMs: number, budget: number): boolean {
    this.packSweep ??= this.sessions.entries();
    const before = this.now() - idleMs;
    for (let visited = 0; visited < budget; visited++) {
      const next = this.packSweep.next();
      if (next.done === true) {
        this.packSweep = undefined;
        return true;
      }
      const [id, entry] = next.value;
      if (typeof entry === 'number') {
        if (this.store.shouldMove(entry)) this.sessions.set(id, this.store.move(entry));
      } else if (entry.updatedAtMs <= before) {
        this.sessions.set(id, this.store.add(pack(entry)));
        this.packed += 1;
      }
    }
    return false;
  }

  /** The record of a session as an object, unpacking it for good if it was packed. */
  private live(sessionId: string): SessionRecord | undefined {
    const entry = this.sessions.get(sessionId);
    if (typeof entry !== 'number') return entry;
    const record = unpack(this.store.bytes(entry));
    this.sessions.set(sessionId, record);
    this.store.release(entry);
    this.packed -= 1;
    return record;
  }

  /** Whether a pass of packIdle() has packed records to move even when none is to be packed. */
  hasPackedToMove(): boolean {
    return this.store.hasChunksToEmpty();
  }

  private forget(record: SessionRecord): void {
    if (record.owner !== this.options.nodeId) return;
    this.owned -= 1;
    for (const t of record.timers) this.timerQueue.cancel(record.sessionId, t.timerId);
  }

  /** The record, if this node owns it; otherwise "ask the owner". */
  getOwned(sessionId: string): SessionRecord {
    checkId('session_id', sessionId);
    const record = this.live(sessionId);
    if (record === undefined) {
      // Not here: where new sessions open is where it would be (a secondary
      // that has not caught up yet must not answer "not found").
      const elsewhere = this.placement.newSessionsGoTo();
      if (elsewhere === undefined) throw new SessionNotFoundError(sessionId);
      if (elsewhere.address === undefined) {
        throw new RetrySoonError(`session "${sessionId}" is not here and node ${elsewhere.nodeId} is not connected yet; retry shortly`);
      }
      throw new NotOwnerError(sessionId, elsewhere.address);
    }
    if (record.owner !== this.options.nodeId) {
      const address = this.placement.addressOf(record.owner);
      if (address === undefined) {
        throw new RetrySoonError(`session "${sessionId}" is owned by node ${record.owner}, which is not reachable from here yet; retry shortly`);
      }
      throw new NotOwnerError(sessionId, address);
    }
    return record;
  }

  stats(): EngineStats {
    return {
      sessions: this.sessions.size,
      sessionsOwned: this.owned,
      sessionsPacked: this.packed,
      packedStore: this.store.stats(),
      pendingTimers: this.timerQueue.size,
      operationsApplied: this.applied,
      operationsRefused: this.refused,
    };
  }

  /** Listens to every change of every session. */
  onEvent(listener: EngineListener): void {
    this.listeners.push(listener);
  }

  /** Listens to one session's changes; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: EngineListener): () => void {
    let set = this.watchers.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      const current = this.watchers.get(sessionId);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.watchers.delete(sessionId);
    };
  }

  get(sessionId: string): SessionRecord {
    checkId('session_id', sessionId);
    const record = this.live(sessionId);
    if (record === undefined) throw new SessionNotFoundError(sessionId);
    return record;
  }

  open(command: OpenCommand): OpenOutcome {
    this.checkAccepting();
    const elsewhere = this.placement.newSessionsGoTo();
    if (elsewhere !== undefined) {
      if (elsewhere.address === undefined) {
        throw new RetrySoonError(`new sessions open on node ${elsewhere.nodeId}, which is not connected yet; retry shortly`);
      }
      throw new NotOwnerError(command.sessionId === '' ? '(new)' : command.sessionId, elsewhere.address);
    }
    const loaded = this.registry.get(command.sessionType);
    if (command.sessionId !== '') checkId('session_id', command.sessionId, SESSION_ID_PATTERN);
    if (command.opId !== '') checkId('op_id', command.opId);
    const existing = command.sessionId === '' ? undefined : this.live(command.sessionId);
    if (existing !== undefined) {
      if (command.opId !== '' && existing.sessionType === command.sessionType && findDedupe(existing, command.opId)) {
        return { record: existing, deduplicated: true };
      }
      throw new SessionExistsError(command.sessionId);
    }
    if (this.sessions.size >= this.options.maxSessions) {
      throw new LimitExceededError(
        'ERR_TOO_MANY_SESSIONS',
        `this node holds ${this.sessions.size} sessions, its limit (--max-sessions); close some or raise the limit`,
        this.options.maxSessions,
        this.sessions.size + 1,
      );
    }
    this.checkPayload('params', command.params, loaded);
    const params = command.params.data.length === 0 ? undefined : this.decode('params', command.params, loaded);
    const sessionId = command.sessionId === '' ? randomUUID() : command.sessionId;
    const nowMs = this.now();
    const ctx = new OperationContext(sessionId, 0, nowMs, undefined, NO_TIMERS, loaded, this.options);
    let state: unknown;
    try {
      state = loaded.handler.init(params, ctx);
    } catch (err) {
      throw this.handlerError('init', command.sessionType, err);
    }
    if (isThenable(state)) {
      throw new HandlerFailedError(`handler "${command.sessionType}" init() returned a Promise; init and apply must be synchronous`);
    }
    const stateText = this.encodeState(loaded, sessionId, state);
    const record: SessionRecord = {
      sessionId,
      sessionType: command.sessionType,
      version: 0,
      schemaVersion: loaded.schemaVersion,
      owner: this.options.nodeId,
      epoch: this.epoch,
      state: stateText,
      timers: ctx.sortedTimers(),
      dedupe: command.opId === '' ? NO_OPERATIONS : [dedupeEntry(command.opId, 0, '')],
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    this.sessions.set(sessionId, record);
    this.owned += 1;
    for (const timer of record.timers) this.timerQueue.schedule(sessionId, timer.timerId, timer.deadlineMs);
    this.emit({ type: 'opened', record, opId: command.opId });
    return { record, deduplicated: false };
  }

  apply(command: ApplyCommand): ApplyOutcome {
    try {
      this.checkAccepting();
      checkId('op_id', command.opId);
      const record = this.getOwned(command.sessionId);
      const loaded = this.registry.get(record.sessionType);
      // Hashed once: the lookup compares it, the new dedupe entry keeps it.
      const tag = opIdTag(command.opId);
      const seen = findDedupe(record, command.opId, tag);
      if (seen !== undefined) {
        return { version: seen.version, reply: fromByteString(seen.reply), contentType: loaded.codec.contentType, deduplicated: true };
      }
      this.checkPayload('operation', command.op, loaded);
      const op = this.decode('operation', command.op, loaded);
      const reply = this.applyToRecord(record, loaded, op, command.opId, tag, undefined);
      return { version: record.version, reply: fromByteString(reply), contentType: loaded.codec.contentType, deduplicated: false };
    } catch (err) {
      this.refused++;
      throw err;
    }
  }

  close(command: CloseCommand): { version: number } {
    this.checkAccepting();
    if (command.opId !== '') checkId('op_id', command.opId);
    const record = this.getOwned(command.sessionId);
    this.forget(record);
    this.sessions.delete(command.sessionId);
    this.emit({ type: 'closed', record, opId: command.opId });
    this.watchers.delete(command.sessionId);
    return { version: record.version };
  }

  /**
   * Runs the handler on a decoded operation and commits the result; returns
   * the reply as a byte string. Throws (leaving the record untouched) when
   * anything fails.
   */
  private applyToRecord(
    record: SessionRecord,
    loaded: LoadedHandler,
    op: unknown,
    opId: string,
    tag: number,
    timer: TimerInfo | undefined,
  ): string {
    const state = this.currentState(record, loaded);
    const timers = timer === undefined ? record.timers : record.timers.filter((t) => t.timerId !== timer.timerId);
    const ctx = new OperationContext(record.sessionId, record.version, this.now(), timer, timers, loaded, this.options);
    let result: unknown;
    try {
      result = loaded.handler.apply(state, op, ctx);
    } catch (err) {
      throw this.handlerError('apply', record.sessionType, err);
    }
    if (isThenable(result)) {
      throw new HandlerFailedError(`handler "${record.sessionType}" apply() returned a Promise; init and apply must be synchronous`);
    }
    if (typeof result !== 'object' || result === null || !('state' in result)) {
      throw new HandlerFailedError(
        `handler "${record.sessionType}" apply() must return { state, reply }; it returned ${typeof result}`,
      );
    }
    const { state: nextState, reply } = result as { state: unknown; reply?: unknown };
    const stateText = this.encodeState(loaded, record.sessionId, nextState);
    let replyText: string;
    try {
      replyText = reply === undefined ? '' : loaded.byteStrings.encode(reply);
    } catch (err) {
      throw new HandlerFailedError(`handler "${record.sessionType}" returned a reply that cannot be encoded: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    // Commit: nothing below can throw.
    record.state = stateText;
    record.schemaVersion = loaded.schemaVersion;
    this.commit(record, ctx.sortedTimers(), ctx.nowMs, opId, tag, replyText, timer?.timerId);
    this.applied++;
    return replyText;
  }

  /**
   * The version bump every change of an owned session makes (an applied
   * operation, or a timer consumed by a failed firing): timers, epoch,
   * version, dedupe window, then the event watchers and replication see.
   */
  private commit(
    record: SessionRecord,
    timers: readonly TimerEntry[],
    nowMs: number,
    opId: string,
    /** opIdTag(opId) */
    tag: number,
    /** The reply as a byte string. */
    reply: string,
    timerId: string | undefined,
  ): void {
    this.rescheduleTimers(record.sessionId, record.timers, timers);
    record.timers = timers;
    record.epoch = this.epoch;
    record.version += 1;
    record.updatedAtMs = nowMs;
    rememberOperation(record, dedupeEntry(opId, record.version, reply, tag), this.options.dedupeWindow);
    this.emit({ type: 'changed', record, opId, reply, timerId });
  }

  private fireTimer(due: DueTimer): void {
    const record = this.live(due.sessionId);
    if (record === undefined || record.owner !== this.options.nodeId) return;
    const entry = record.timers.find((t) => t.timerId === due.timerId && t.deadlineMs === due.deadlineMs);
    if (entry === undefined) return;
    const opId = `timer:${entry.timerId}:${entry.deadlineMs}`;
    const tag = opIdTag(opId);
    const timer: TimerInfo = { timerId: entry.timerId, deadlineMs: entry.deadlineMs };
    try {
      const loaded = this.registry.get(record.sessionType);
      const op = loaded.codec.decode(entry.payload);
      this.applyToRecord(record, loaded, op, opId, tag, timer);
    } catch (err) {
      // A timer that fails still fires only once: consume it, keep the state.
      this.logger.warn(
        { err, sessionId: record.sessionId, timerId: entry.timerId },
        'timer operation failed; the timer is consumed and the state is unchanged',
      );
      this.commit(record, record.timers.filter((t) => t !== entry), this.now(), opId, tag, '', entry.timerId);
    }
  }

  private rescheduleTimers(sessionId: string, before: readonly TimerEntry[], after: readonly TimerEntry[]): void {
    if (before === after || (before.length === 0 && after.length === 0)) return;
    const next = new Map(after.map((t) => [t.timerId, t.deadlineMs]));
    for (const t of before) if (next.get(t.timerId) !== t.deadlineMs) this.timerQueue.cancel(sessionId, t.timerId);
    const prev = new Map(before.map((t) => [t.timerId, t.deadlineMs]));
    for (const t of after) if (prev.get(t.timerId) !== t.deadlineMs) this.timerQueue.schedule(sessionId, t.timerId, t.deadlineMs);
  }

  /** The record's state decoded, migrated to the loaded handler's schema. */
  private currentState(record: SessionRecord, loaded: LoadedHandler): unknown {
    let state: unknown;
    try {
      state = loaded.byteStrings.decode(record.state);
    } catch (err) {
      throw new BatonError('ERR_INTERNAL', `stored state of session "${record.sessionId}" cannot be decoded: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (record.schemaVersion === loaded.schemaVersion) return state;
    if (record.schemaVersion > loaded.schemaVersion) {
      throw new SchemaTooNewError(record.sessionId, record.schemaVersion, loaded.schemaVersion);
    }
    try {
      return loaded.handler.migrate(state, record.schemaVersion);
    } catch (err) {
      throw new HandlerFailedError(
        `handler "${record.sessionType}" migrate() from schema ${record.schemaVersion} failed: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private checkAccepting(): void {
    if (!this.accepting) throw this.notAccepting ?? new NodeStoppingError(this.options.nodeId);
  }

  private checkPayload(what: 'operation' | 'params', payload: Payload, loaded: LoadedHandler): void {
    if (payload.data.length > this.options.maxOperationBytes) {
      throw new LimitExceededError(
        'ERR_OPERATION_TOO_LARGE',
        `${what} is ${payload.data.length} bytes; this node accepts at most ${this.options.maxOperationBytes} (--max-operation-bytes)`,
        this.options.maxOperationBytes,
        payload.data.length,
      );
    }
    if (payload.contentType !== '' && payload.contentType !== loaded.codec.contentType) {
      throw new MalformedPayloadError(
        `${what} has content type "${payload.contentType}", but session type "${loaded.sessionType}" takes "${loaded.codec.contentType}"`,
      );
    }
  }

  private decode(what: 'operation' | 'params', payload: Payload, loaded: LoadedHandler): unknown {
    try {
      return loaded.codec.decode(payload.data);
    } catch (err) {
      throw new MalformedPayloadError(
        `${what} is not valid ${loaded.codec.contentType} for session type "${loaded.sessionType}": ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** The state as a byte string, checked against --max-state-bytes. */
  private encodeState(loaded: LoadedHandler, sessionId: string, state: unknown): string {
    let bytes: string;
    try {
      bytes = loaded.byteStrings.encode(state);
    } catch (err) {
      throw new HandlerFailedError(`handler "${loaded.sessionType}" produced a state that cannot be encoded: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (bytes.length > this.options.maxStateBytes) {
      throw new LimitExceededError(
        'ERR_STATE_TOO_LARGE',
        `the operation would grow session "${sessionId}" to ${bytes.length} bytes of state; the limit is ${this.options.maxStateBytes} (--max-state-bytes); nothing was applied`,
        this.options.maxStateBytes,
        bytes.length,
      );
    }
    return bytes;
  }

  private handlerError(phase: 'init' | 'apply', sessionType: string, err: unknown): BatonError {
    if (err instanceof BatonError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (err instanceof Error && typeof code === 'string' && code.length > 0) {
      return new OperationRejectedError(`${sessionType}: ${err.message}`, code);
    }
    return new HandlerFailedError(`handler "${sessionType}" ${phase}() threw: ${errorMessage(err)}`, { cause: err });
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
    const set = this.watchers.get(event.record.sessionId);
    if (set !== undefined) for (const listener of [...set]) listener(event);
  }
}
