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

  constructor(
    private readonly options: SnapshotWriterOptions,
    private readonly store: SnapshotStore,
    private readonly engine: SessionEngine,
    private readonly log: ReplicationLog<EngineEvent>,
    private readonly logger: Logger,
  ) {
    engine.onEvent((event: EngineEvent) => {
      this.dirty.add(event.record.sessionId);
      if (this.dirty.size >= this.options.dirtyMax && this.flushing === undefined) void this.flushQuietly();
    });
  }

  status(): SnapshotStats {
    return { ...this.stats, connected: this.store.redis.status === 'ready', dirty: this.dirty.size };
  }

  start(): void {
    this.timer = setInterval(() => void this.flushQuietly(), this.options.intervalMs);
  }

  /** Stops the interval and writes what is dirty one last time (best effort). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flushQuietly();
  }

  markDirty(sessionId: string): void {
    this.dirty.add(sessionId);
  }

  markAllOwnedDirty(): void {
    for (const id of this.engine.idsOwnedBy(this.options.nodeId)) this.dirty.add(id);
  }

  /** Writes every owned session; resolves with the offset the snapshot then reflects. */
  async flushAll(): Promise<number> {
    if (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    this.markAllOwnedDirty();
    return this.flush();
  }

  /** Writes the dirty sessions; resolves with the watermark offset. */
  flush(): Promise<number> {
    this.flushing ??= withTimeout(this.doFlush(), FLUSH_TIMEOUT_MS, 'snapshot flush').finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
      if (this.failing) this.logger.info('snapshots to Redis resumed');
      this.failing = false;
    } catch (err) {
      this.stats = { ...this.stats, lastError: err instanceof Error ? err.message : String(err) };
      if (!this.failing) this.logger.warn({ err }, 'snapshot to Redis failed; serving continues and snapshots resume when Redis is back');
      this.failing = true;
    }
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
      // Each batch is encoded in its own turn of the event loop and sent
      // without waiting for the previous ones, up to PIPELINE_DEPTH at once.
      // The yield is unconditional: awaiting a reply that has already
      // arrived continues in the same turn, and a flush that never yields
      // holds every operation behind it.
      const send = async (): Promise<void> => {
        const sent = this.store.write(this.engine.epoch, this.options.nodeId, slice);
        sent.catch(() => undefined); // awaited below; a failure is handled there
        inFlight.push(sent);
        slice = [];
        if (inFlight.length >= PIPELINE_DEPTH) written += await (inFlight.shift() as Promise<number>);
        await new Promise((resolve) => setImmediate(resolve));
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
