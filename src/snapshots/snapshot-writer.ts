import type { Logger } from 'pino';
import type { ReplicationLog } from '../replication/replication-log.js';
import type { EngineEvent, SessionEngine } from '../sessions/session-engine.js';
import { ScriptCode } from './redis-scripts.js';
import { SnapshotRefusedError } from './snapshot-store.js';
import type { RecordWrite, SnapshotStore } from './snapshot-store.js';

export interface SnapshotWriterOptions {
  readonly nodeId: string;
  /** Flush dirty sessions this often, in ms. */
  readonly intervalMs: number;
  /** Flush early once this many sessions are dirty. */
  readonly dirtyMax: number;
  /**
   * Records encoded per turn of the event loop, and written per script call;
   * small enough that encoding them never shows in operation latency.
   */
  readonly batch: number;
}

export interface SnapshotStats {
  readonly connected: boolean;
  readonly lastFlushAtMs: number;
  readonly watermarkOffset: number;
  readonly dirty: number;
  readonly flushes: number;
  readonly recordsWritten: number;
  readonly refills: number;
  readonly lastError: string;
}

/** Script calls of one flush in flight at once on the connection (pipelining). */
const PIPELINE_DEPTH = 4;
/**
 * A periodic flush spreads its batches over at most this share of
 * --snapshot-interval-ms (see SnapshotWriter.doFlush).
 */
const PACE_SHARE = 0.5;
/**
 * A flush that takes longer is abandoned (its sessions stay dirty), so a
 * Redis that hangs instead of failing cannot stop snapshots for good.
 */
const FLUSH_TIMEOUT_MS = 30_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Writes the sessions this node owns to Redis: changed ("dirty") sessions in
 * pipelined batches, on an interval or once enough are dirty, then the
 * watermark (the log offset the snapshot reflects). Redis being away never
 * blocks serving: a failed flush keeps its sessions dirty for the next one.
 * A Redis that lost its data is refilled with every owned session.
 */
export class SnapshotWriter {
  private dirty = new Set<string>();
  private flushing: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stats: Omit<SnapshotStats, 'connected' | 'dirty'> = {
    lastFlushAtMs: 0,
    watermarkOffset: 0,
    flushes: 0,
    recordsWritten: 0,
    refills: 0,
    lastError: '',
  };
  private failing = false;
  /** Whether the flush in flight spreads its batches out (a periodic one nobody waits for). */
  private pacing = false;
  /** Ends the paced wait of the flush in flight early. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: SnapshotWriterOptions,
    private readonly store: SnapshotStore,
    private readonly engine: SessionEngine,
    private readonly log: ReplicationLog,
    private readonly logger: Logger,
  ) {
    engine.onEvent((event: EngineEvent) => {
      this.dirty.add(event.record.sessionId);
      if (this.dirty.size >= this.options.dirtyMax) {
        if (this.flushing === undefined) void this.flushQuietly(false);
        else this.hurry();
      }
    });
  }

  status(): SnapshotStats {
    return { ...this.stats, connected: this.store.redis.status === 'ready', dirty: this.dirty.size };
  }

  start(): void {
    this.timer = setInterval(() => void this.flushQuietly(true), this.options.intervalMs);
  }

  /** Stops the interval and writes what is dirty one last time (best effort). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flushQuietly(false);
  }

  markDirty(sessionId: string): void {
    this.dirty.add(sessionId);
  }

  markAllOwnedDirty(): void {
    for (const id of this.engine.idsOwnedBy(this.options.nodeId)) this.dirty.add(id);
  }

  /** Writes every owned session; resolves with the offset the snapshot then reflects. */
  async flushAll(): Promise<number> {
    // Someone waits for this one: a periodic flush in flight finishes at full speed.
    this.hurry();
    if (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    this.markAllOwnedDirty();
    return this.flush();
  }

  /**
   * Writes the dirty sessions; resolves with the watermark offset. A
   * `paced` flush spreads its batches over half the interval; asking for
   * an unpaced one while it runs makes it finish at full speed.
   */
  flush(paced = false): Promise<number> {
    if (this.flushing === undefined) this.pacing = paced;
    else if (!paced) this.hurry();
    this.flushing ??= withTimeout(this.doFlush(), FLUSH_TIMEOUT_MS, 'snapshot flush').finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushQuietly(paced: boolean): Promise<void> {
    try {
      await this.flush(paced);
      if (this.failing) this.logger.info('snapshots to Redis resumed');
      this.failing = false;
    } catch (err) {
      this.stats = { ...this.stats, lastError: err instanceof Error ? err.message : String(err) };
      if (!this.failing) this.logger.warn({ err }, 'snapshot to Redis failed; serving continues and snapshots resume when Redis is back');
      this.failing = true;
    }
  }

  /** The flush in flight stops pacing and goes on at once. */
  private hurry(): void {
    this.pacing = false;
    this.wake?.();
  }

  /** Resolves after `ms` when at least 1, or the next turn of the loop; hurry() ends the wait early. */
  private pause(ms: number): Promise<void> {
    if (ms < 1) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.wake = undefined;
        clearTimeout(timer);
        setImmediate(resolve);
      };
    });
  }

  /**
   * Until batch `sent` of `batches` may start when the flush is paced: the
   * batches of a periodic flush are spread evenly over PACE_SHARE of the
   * interval. Encoding 1 000 sessions with full dedupe windows takes tens of
   * ms; at one batch per turn, back to back, that kept the loop busy for
   * 40 ms every second, and the operations queued behind it set the p99.
   */
  private paceWait(startedAt: number, sent: number, batches: number): number {
    if (!this.pacing || sent >= batches) return 0;
    return startedAt + (sent * this.options.intervalMs * PACE_SHARE) / batches - performance.now();
  }

  private async doFlush(): Promise<number> {
    if (this.store.redis.status !== 'ready') throw new Error(`Redis is not connected (${this.store.redis.status})`);
    const ids = this.dirty;
    this.dirty = new Set();
    // Everything up to here is in the records captured below (or newer).
    const offset = this.log.offset;
    const replicationId = this.log.replicationId;
    const inFlight: Promise<number>[] = [];
    try {
      let written = 0;
      let slice: RecordWrite[] = [];
      const batches = Math.ceil(ids.size / this.options.batch);
      const startedAt = performance.now();
      let sentBatches = 0;
      // Each batch is encoded in its own turn of the event loop and sent
      // without waiting for the previous ones, up to PIPELINE_DEPTH at once.
      // The yield is unconditional: awaiting a reply that has already
      // arrived continues in the same turn, and a flush that never yields
      // holds every operation behind it. A paced flush waits longer (see
      // paceWait).
      const send = async (): Promise<void> => {
        const sent = this.store.write(this.engine.epoch, this.options.nodeId, slice);
        sent.catch(() => undefined); // awaited below; a failure is handled there
        inFlight.push(sent);
        slice = [];
        sentBatches += 1;
        if (inFlight.length >= PIPELINE_DEPTH) written += await (inFlight.shift() as Promise<number>);
        await this.pause(this.paceWait(startedAt, sentBatches, batches));
      };
      for (const id of ids) {
        const held = this.engine.snapshotOf(id);
        slice.push({ sessionId: id, version: held?.version, payload: held?.payload });
        if (slice.length >= this.options.batch) await send();
      }
      if (slice.length > 0) await send();
      while (inFlight.length > 0) written += await (inFlight.shift() as Promise<number>);
      await this.store.setWatermark(this.engine.epoch, this.options.nodeId, { replicationId, offset });
      this.stats = {
        ...this.stats,
        lastFlushAtMs: Date.now(),
        watermarkOffset: offset,
        flushes: this.stats.flushes + 1,
        recordsWritten: this.stats.recordsWritten + written,
        lastError: '',
      };
      return offset;
    } catch (err) {
      await Promise.allSettled(inFlight);
      for (const id of ids) this.dirty.add(id);
      if (err instanceof SnapshotRefusedError && err.code === ScriptCode.NotRegistered) {
        this.logger.warn('Redis lost its data: registering again and refilling it with every owned session');
        await this.store.register(this.options.nodeId);
        this.markAllOwnedDirty();
        this.stats = { ...this.stats, refills: this.stats.refills + 1 };
        return this.doFlush();
      }
      throw err;
    }
  }
}
