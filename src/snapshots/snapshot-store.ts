import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisRefusedError } from '../errors.js';
import { scanRecord } from '../replication/record-codec.js';
import type { RecordHead } from '../replication/record-codec.js';
import type { PackedRecord } from '../sessions/packed-record.js';
import { RedisKeys, SNAPSHOT_FORMAT } from './redis-keys.js';
import { callScript, SCRIPTS, ScriptCode } from './redis-scripts.js';

/** Keys fetched per pipelined round trip when loading a snapshot. */
const LOAD_CHUNK = 1_000;
/** Pipelined chunks in flight at once while loading. */
const LOAD_PARALLEL = 4;

export interface Watermark {
  readonly replicationId: string;
  readonly offset: number;
}

/** A record a snapshot load found, checked against its key and `v` field, kept packed. */
export interface LoadedRecord {
  readonly sessionId: string;
  readonly owner: string;
  /** How many timers it holds. */
  readonly timers: number;
  readonly packed: PackedRecord;
}

export interface LoadedSnapshot {
  /** Records handed to the load's callback. */
  readonly loaded: number;
  readonly watermarks: ReadonlyMap<string, Watermark>;
  readonly epoch: number;
  /** Keys whose record could not be decoded (skipped). */
  readonly corrupt: readonly string[];
}

/** Whether `bytes` is the decimal text of `n` (a `v` field), without making a string of either. */
function isDecimal(bytes: Buffer, n: number): boolean {
  let rest = n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const digit = (bytes[i] as number) - 48;
    if (digit < 0 || digit > 9 || digit !== rest % 10) return false;
    rest = Math.floor(rest / 10);
  }
  return rest === 0 && bytes.length > 0 && (bytes[0] !== 48 || bytes.length === 1);
}

/** A write the script refused. */
export class SnapshotRefusedError extends Error {
  override readonly name = 'SnapshotRefusedError';
  constructor(
    readonly code: ScriptCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RecordWrite {
  readonly sessionId: string;
  /** Undefined: delete the session. */
  readonly version: number | undefined;
  readonly payload: Buffer | undefined;
}

function checkReply([code, detail]: [ScriptCode, string | number], what: string): void {
  if (code === ScriptCode.Ok) return;
  if (code === ScriptCode.StaleEpoch) throw new SnapshotRefusedError(code, `${what} refused: Redis has seen epoch ${detail}, newer than this node's`);
  if (code === ScriptCode.NotRegistered) throw new SnapshotRefusedError(code, `${what} refused: this node is not registered in Redis (it lost its data)`);
  throw new SnapshotRefusedError(code, `${what} refused with code ${code} (${detail})`);
}

/** The snapshot data of one cluster in Redis. */
export class SnapshotStore {
  readonly keys: RedisKeys;

  constructor(
    readonly redis: Redis,
    cluster: string,
    private readonly logger: Logger,
  ) {
    this.keys = new RedisKeys(cluster);
  }

  /**
   * Records this node as one of the pair using this cluster's data; throws
   * RedisRefusedError when Redis holds another pair's data or another format.
   */
  async register(nodeId: string): Promise<string> {
    const [code, detail] = await callScript(this.redis, SCRIPTS.registerNode.name, [
      this.keys.meta,
      this.keys.node(nodeId),
      this.keys.cluster,
      nodeId,
      SNAPSHOT_FORMAT,
    ]);
    if (code === ScriptCode.PairFull) {
      throw new RedisRefusedError(
        `Redis holds cluster "${this.keys.cluster}" data of nodes ${String(detail)}; node ${nodeId} is not one of them. Use another --cluster name or another Redis, or delete ${this.keys.meta} if those nodes are gone for good`,
      );
    }
    if (code === ScriptCode.FormatMismatch) {
      throw new RedisRefusedError(`Redis holds cluster "${this.keys.cluster}" snapshots in format ${String(detail)}; this release writes format ${SNAPSHOT_FORMAT}`);
    }
    if (code === ScriptCode.ClusterMismatch) {
      throw new RedisRefusedError(`Redis key ${this.keys.meta} belongs to cluster "${String(detail)}", not "${this.keys.cluster}"`);
    }
    return String(detail);
  }

  async readEpoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }

  /** Writes one batch of records in one script call; returns how many were written. */
  async write(epoch: number, owner: string, writes: readonly RecordWrite[]): Promise<number> {
    const keys = [this.keys.node(owner), this.keys.epoch, ...writes.map((w) => this.keys.session(w.sessionId))];
    const args: (string | number | Buffer)[] = [keys.length, ...keys, epoch, owner];
    for (const w of writes) {
      if (w.version === undefined) args.push('d', 0, '');
      else args.push('s', w.version, w.payload as Buffer);
    }
    const reply = (await callScript(this.redis, SCRIPTS.writeRecords.name, args)) as [ScriptCode, number];
    checkReply(reply, 'snapshot write');
    return Number(reply[1]);
  }

  async setWatermark(epoch: number, owner: string, mark: Watermark): Promise<void> {
    const reply = await callScript(this.redis, SCRIPTS.setWatermark.name, [
      this.keys.node(owner),
      this.keys.epoch,
      this.keys.watermarks,
      epoch,
      owner,
      `${mark.replicationId}:${mark.offset}`,
    ]);
    checkReply(reply, 'watermark update');
  }

  async watermarks(): Promise<Map<string, Watermark>> {
    const raw = await this.redis.hgetall(this.keys.watermarks);
    const out = new Map<string, Watermark>();
    for (const [owner, value] of Object.entries(raw)) {
      const at = value.lastIndexOf(':');
      const offset = Number(value.slice(at + 1));
      if (at > 0 && Number.isInteger(offset)) out.set(owner, { replicationId: value.slice(0, at), offset });
    }
    return out;
  }

  /** Every session key of the cluster (SCAN, never KEYS). */
  async sessionKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await this.redis.scan(cursor, 'MATCH', `${this.keys.sessionPrefix}*`, 'COUNT', 2_000);
      cursor = next;
      keys.push(...page);
    } while (cursor !== '0');
    return keys;
  }

  /**
   * Loads every record with pipelined HGETALLs, several chunks in flight,
   * and hands each to `onRecord` as it arrives, packed: checked with
   * scanRecord, not decoded (docs/snapshots.md, "Loading"). A record that
   * cannot be decoded, or that does not match its key and `v` field, is
   * logged, counted and skipped.
   */
  async load(onRecord: (record: LoadedRecord) => void): Promise<LoadedSnapshot> {
    const [keys, watermarks, epoch] = await Promise.all([this.sessionKeys(), this.watermarks(), this.readEpoch()]);
    let loaded = 0;
    const corrupt: string[] = [];
    const prefix = this.keys.sessionPrefix;
    const skip = (key: string, err: unknown): void => {
      corrupt.push(key);
      if (corrupt.length <= 10) this.logger.error({ key, err }, 'corrupt snapshot record skipped');
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const chunk = keys.slice(next, next + LOAD_CHUNK);
        next += LOAD_CHUNK;
        const pipeline = this.redis.pipeline();
        for (const key of chunk) pipeline.hgetallBuffer(key);
        const results = (await pipeline.exec()) ?? [];
        for (let i = 0; i < chunk.length; i++) {
          const [err, value] = results[i] as [Error | null, Record<string, Buffer>];
          if (err) throw err;
          const key = chunk[i] as string;
          const { r, v } = value;
          if (r === undefined) continue; // deleted between SCAN and HGETALL
          let head: RecordHead;
          try {
            head = scanRecord(r);
          } catch (e) {
            skip(key, e);
            continue;
          }
          const id = head.sessionId;
          if (key.length !== prefix.length + id.length || !key.endsWith(id) || !key.startsWith(prefix) || v === undefined || !isDecimal(v, head.version)) {
            skip(key, new Error('record does not match its key or version field'));
            continue;
          }
          onRecord({ sessionId: id, owner: head.owner, timers: head.timers, packed: r });
          loaded++;
        }
      }
    };
    await Promise.all(Array.from({ length: LOAD_PARALLEL }, worker));
    if (corrupt.length > 10) this.logger.error({ count: corrupt.length }, 'corrupt snapshot records skipped (first 10 logged)');
    return { loaded, watermarks, epoch, corrupt };
  }
}
