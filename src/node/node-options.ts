import type { LevelWithSilent } from 'pino';
import { ConfigError } from '../errors.js';
import { LOG_LEVELS } from '../observability/logger.js';
import { formatHostPort, parseHostPort } from '../rpc/address.js';
import type { HostPort } from '../rpc/address.js';
import {
  DEFAULT_DEDUPE_WINDOW,
  DEFAULT_MAX_OPERATION_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STATE_BYTES,
  DEFAULT_MAX_TIMERS_PER_SESSION,
} from '../sessions/engine-options.js';
import type { EngineOptions } from '../sessions/engine-options.js';
import { hostname } from 'node:os';
import type { Durability } from '../replication/durability-gate.js';
import type { NodeRole } from '../replication/peer-identity.js';
import { DEFAULT_MASTER_NAME } from '../snapshots/redis-options.js';
import type { RedisOptions } from '../snapshots/redis-options.js';

export interface HandlerSpec {
  readonly sessionType: string;
  readonly path: string;
}

/** A daemon's configuration after validation: the only form that travels inside the daemon. */
export interface NodeOptions extends EngineOptions {
  /** Session API address. @default 127.0.0.1:7100 */
  readonly listen: HostPort;
  /** ControlService address (CLI, status). @default 127.0.0.1:7101 */
  readonly control: HostPort;
  /** Session types served; at least one. */
  readonly handlers: readonly HandlerSpec[];
  /** @default "info" */
  readonly logLevel: LevelWithSilent;
  /**
   * How long SIGTERM waits for in-flight work and open streams before it
   * cuts connections.
   * @default 10_000
   */
  readonly graceMs: number;
  /** @default "primary" */
  readonly role: NodeRole;
  /** Name shared by both nodes of a pair; prefixes its Redis keys. @default "baton" */
  readonly cluster: string;
  /** The peer's control address (it serves PeerService there); undefined: a single node. */
  readonly peer: HostPort | undefined;
  readonly redis: RedisOptions;
  /** @default "sync" */
  readonly durability: Durability;
  /** 1: refuse writes while no replica is attached. @default 0 */
  readonly minReplicas: 0 | 1;
  /** Size of the in-memory replication backlog, in bytes. @default 16 MiB */
  readonly backlogBytes: number;
  /** @default 1_000 */
  readonly snapshotIntervalMs: number;
  /** @default 10_000 */
  readonly snapshotDirtyMax: number;
  /** Records per snapshot script call, encoded per turn of the event loop. @default 32 */
  readonly snapshotBatch: number;
  /**
   * A session nobody changed for this long is kept encoded until it is
   * touched again (src/sessions/packed-record.ts); 0 keeps every session
   * decoded. @default 10_000
   */
  readonly packIdleMs: number;
  /**
   * Heartbeat period on the replication stream, in ms.
   * @default 200
   */
  readonly heartbeatMs: number;
  /**
   * A peer silent this long is considered gone: its stream is cut, and sync
   * writes stop waiting for it (so a hung replica stalls writes at most this long).
   * @default 1_500
   */
  readonly peerTimeoutMs: number;
  /**
   * At start, how long to wait for the peer to hand back the newest copies
   * of this node's sessions before serving from the Redis snapshot alone.
   * @default 3_000
   */
  readonly bootstrapPeerWaitMs: number;
  /** Prometheus endpoint (GET /metrics); undefined: off. */
  readonly metrics: HostPort | undefined;
}

export const DEFAULT_BACKLOG_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1_000;
export const DEFAULT_SNAPSHOT_DIRTY_MAX = 10_000;
export const DEFAULT_SNAPSHOT_BATCH = 32;
export const DEFAULT_PACK_IDLE_MS = 10_000;
export const DEFAULT_HEARTBEAT_MS = 200;
export const DEFAULT_PEER_TIMEOUT_MS = 1_500;
export const DEFAULT_BOOTSTRAP_PEER_WAIT_MS = 3_000;

export const DEFAULT_LISTEN = '127.0.0.1:7100';
export const DEFAULT_CONTROL = '127.0.0.1:7101';
export const DEFAULT_GRACE_MS = 10_000;

/** One configurable field: its flag, environment variable and config-file key. */
export interface FieldSpec {
  readonly key: keyof RawNodeConfig;
  readonly flag: string;
  readonly env: string;
  readonly description: string;
}

/** Unvalidated configuration, as flags, environment and config file give it. */
export interface RawNodeConfig {
  nodeId?: unknown;
  listen?: unknown;
  control?: unknown;
  handlers?: unknown;
  logLevel?: unknown;
  graceMs?: unknown;
  maxSessions?: unknown;
  maxStateBytes?: unknown;
  maxOperationBytes?: unknown;
  dedupeWindow?: unknown;
  maxTimersPerSession?: unknown;
  role?: unknown;
  cluster?: unknown;
  peer?: unknown;
  redis?: unknown;
  redisSentinels?: unknown;
  redisMasterName?: unknown;
  redisPassword?: unknown;
  redisSentinelPassword?: unknown;
  redisTls?: unknown;
  redisTlsCa?: unknown;
  durability?: unknown;
  minReplicas?: unknown;
  backlogBytes?: unknown;
  snapshotIntervalMs?: unknown;
  snapshotDirtyMax?: unknown;
  snapshotBatch?: unknown;
  packIdleMs?: unknown;
  heartbeatMs?: unknown;
  peerTimeoutMs?: unknown;
  bootstrapPeerWaitMs?: unknown;
  metrics?: unknown;
}

export const NODE_FIELDS: readonly FieldSpec[] = [
  { key: 'nodeId', flag: '--node-id <id>', env: 'BATON_NODE_ID', description: 'unique name of this node (default: the host name)' },
  { key: 'listen', flag: '--listen <host:port>', env: 'BATON_LISTEN', description: `session API address (default: ${DEFAULT_LISTEN}; port 0 picks a free port)` },
  { key: 'control', flag: '--control <host:port>', env: 'BATON_CONTROL', description: `control API address for the CLI (default: ${DEFAULT_CONTROL})` },
  { key: 'handlers', flag: '--handler <type=path...>', env: 'BATON_HANDLERS', description: 'session type and the handler module serving it; repeatable (env: comma-separated)' },
  { key: 'logLevel', flag: '--log-level <level>', env: 'BATON_LOG_LEVEL', description: `one of ${LOG_LEVELS.join(', ')} (default: info)` },
  { key: 'graceMs', flag: '--grace-ms <ms>', env: 'BATON_GRACE_MS', description: `how long SIGTERM waits for in-flight work (default: ${DEFAULT_GRACE_MS})` },
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'BATON_MAX_SESSIONS', description: `most sessions this node holds (default: ${DEFAULT_MAX_SESSIONS})` },
  { key: 'maxStateBytes', flag: '--max-state-bytes <n>', env: 'BATON_MAX_STATE_BYTES', description: `largest session state in bytes (default: ${DEFAULT_MAX_STATE_BYTES})` },
  { key: 'maxOperationBytes', flag: '--max-operation-bytes <n>', env: 'BATON_MAX_OPERATION_BYTES', description: `largest operation in bytes (default: ${DEFAULT_MAX_OPERATION_BYTES})` },
  { key: 'dedupeWindow', flag: '--dedupe-window <n>', env: 'BATON_DEDUPE_WINDOW', description: `operation ids remembered per session for retries (default: ${DEFAULT_DEDUPE_WINDOW})` },
  { key: 'maxTimersPerSession', flag: '--max-timers-per-session <n>', env: 'BATON_MAX_TIMERS_PER_SESSION', description: `most pending timers per session (default: ${DEFAULT_MAX_TIMERS_PER_SESSION})` },
  { key: 'role', flag: '--role <role>', env: 'BATON_ROLE', description: 'primary (owns new sessions) or secondary (hot standby) (default: primary)' },
  { key: 'cluster', flag: '--cluster <name>', env: 'BATON_CLUSTER', description: 'pair name, the same on both nodes; prefixes Redis keys (default: baton)' },
  { key: 'peer', flag: '--peer <host:port>', env: 'BATON_PEER', description: "the peer's --control address; omit to run a single node" },
  { key: 'redis', flag: '--redis <url>', env: 'BATON_REDIS', description: 'Redis for snapshots: redis://[user:pass@]host:port[/db], rediss:// for TLS' },
  { key: 'redisSentinels', flag: '--redis-sentinels <list>', env: 'BATON_REDIS_SENTINELS', description: 'comma-separated Sentinel HOST:PORTs (instead of --redis)' },
  { key: 'redisMasterName', flag: '--redis-master-name <name>', env: 'BATON_REDIS_MASTER_NAME', description: `Sentinel master name (default: ${DEFAULT_MASTER_NAME})` },
  { key: 'redisPassword', flag: '--redis-password <secret>', env: 'BATON_REDIS_PASSWORD', description: 'Redis AUTH password (prefer the environment variable)' },
  { key: 'redisSentinelPassword', flag: '--redis-sentinel-password <secret>', env: 'BATON_REDIS_SENTINEL_PASSWORD', description: 'Sentinel AUTH password (default: the Redis password)' },
  { key: 'redisTls', flag: '--redis-tls', env: 'BATON_REDIS_TLS', description: 'connect to Redis over TLS' },
  { key: 'redisTlsCa', flag: '--redis-tls-ca <file>', env: 'BATON_REDIS_TLS_CA', description: 'PEM CA certificate for the Redis server (implies --redis-tls)' },
  { key: 'durability', flag: '--durability <mode>', env: 'BATON_DURABILITY', description: 'sync: acknowledge after the peer stored the change; async: after local apply (default: sync)' },
  { key: 'minReplicas', flag: '--min-replicas <n>', env: 'BATON_MIN_REPLICAS', description: '1 refuses writes while no replica is attached; 0 runs solo (default: 0)' },
  { key: 'backlogBytes', flag: '--backlog-bytes <n>', env: 'BATON_BACKLOG_BYTES', description: `replication backlog for partial resync, bytes (default: ${DEFAULT_BACKLOG_BYTES})` },
  { key: 'snapshotIntervalMs', flag: '--snapshot-interval-ms <ms>', env: 'BATON_SNAPSHOT_INTERVAL_MS', description: `how often changed sessions are written to Redis (default: ${DEFAULT_SNAPSHOT_INTERVAL_MS})` },
  { key: 'snapshotDirtyMax', flag: '--snapshot-dirty-max <n>', env: 'BATON_SNAPSHOT_DIRTY_MAX', description: `write early once this many sessions changed (default: ${DEFAULT_SNAPSHOT_DIRTY_MAX})` },
  { key: 'snapshotBatch', flag: '--snapshot-batch <n>', env: 'BATON_SNAPSHOT_BATCH', description: `records per snapshot script call, encoded per turn of the event loop (default: ${DEFAULT_SNAPSHOT_BATCH})` },
  { key: 'packIdleMs', flag: '--pack-idle-ms <ms>', env: 'BATON_PACK_IDLE_MS', description: `keep a session encoded in memory once unchanged this long, 0 never (default: ${DEFAULT_PACK_IDLE_MS})` },
  { key: 'heartbeatMs', flag: '--heartbeat-ms <ms>', env: 'BATON_HEARTBEAT_MS', description: `heartbeat period on the peer link (default: ${DEFAULT_HEARTBEAT_MS})` },
  { key: 'peerTimeoutMs', flag: '--peer-timeout-ms <ms>', env: 'BATON_PEER_TIMEOUT_MS', description: `a peer silent this long is considered gone (default: ${DEFAULT_PEER_TIMEOUT_MS})` },
  { key: 'bootstrapPeerWaitMs', flag: '--bootstrap-peer-wait-ms <ms>', env: 'BATON_BOOTSTRAP_PEER_WAIT_MS', description: `at start, how long to wait for the peer to hand back this node's sessions (default: ${DEFAULT_BOOTSTRAP_PEER_WAIT_MS})` },
  { key: 'metrics', flag: '--metrics <host:port>', env: 'BATON_METRICS', description: 'serve Prometheus metrics at GET /metrics on this address (default: off)' },
];

function fieldName(key: keyof RawNodeConfig): string {
  const spec = NODE_FIELDS.find((f) => f.key === key);
  return spec === undefined ? key : (spec.flag.split(' ')[0] as string);
}

function integer(key: keyof RawNodeConfig, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(fieldName(key), `an integer from ${min} to ${max}`, value);
  }
  return n;
}

function address(key: keyof RawNodeConfig, value: unknown, fallback: string): HostPort {
  const raw = value ?? fallback;
  const parsed = typeof raw === 'string' ? parseHostPort(raw) : undefined;
  if (parsed === undefined) throw new ConfigError(fieldName(key), 'HOST:PORT, e.g. 127.0.0.1:7100 or [::1]:7100', raw);
  return parsed;
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function handlers(value: unknown): HandlerSpec[] {
  const accepted =
    'at least one TYPE=PATH (TYPE: a letter then letters, digits, "_" or "-"; PATH: the handler module), e.g. --handler counter=./examples/handlers/counter';
  let entries: [string, unknown][];
  if (typeof value === 'string') value = value.split(',').filter((s) => s.trim() !== '');
  if (Array.isArray(value)) {
    entries = value.map((item) => {
      if (typeof item !== 'string' || !item.includes('=')) throw new ConfigError('--handler', accepted, item);
      const at = item.indexOf('=');
      return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
    });
  } else if (typeof value === 'object' && value !== null) {
    entries = Object.entries(value);
  } else {
    throw new ConfigError('--handler', accepted, value);
  }
  if (entries.length === 0) throw new ConfigError('--handler', accepted, value);
  const seen = new Set<string>();
  return entries.map(([sessionType, path]) => {
    if (!TYPE_PATTERN.test(sessionType) || typeof path !== 'string' || path === '') {
      throw new ConfigError('--handler', accepted, `${sessionType}=${String(path)}`);
    }
    if (seen.has(sessionType)) throw new ConfigError('--handler', 'each TYPE at most once', sessionType);
    seen.add(sessionType);
    return { sessionType, path };
  });
}

function oneOf<T extends string>(key: keyof RawNodeConfig, value: unknown, fallback: T, accepted: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(accepted as readonly string[]).includes(value)) {
    throw new ConfigError(fieldName(key), `one of ${accepted.join(', ')}`, value);
  }
  return value as T;
}

function optionalString(key: keyof RawNodeConfig, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(fieldName(key), 'a string', value);
  return value;
}

function flag(key: keyof RawNodeConfig, value: unknown): boolean {
  if (value === undefined || value === false || value === 'false' || value === '0') return false;
  if (value === true || value === 'true' || value === '1') return true;
  throw new ConfigError(fieldName(key), 'true or false', value);
}

function redisOptions(raw: RawNodeConfig): RedisOptions {
  const url = optionalString('redis', raw.redis);
  if (url !== undefined && !/^rediss?:\/\/[^/\s]+/.test(url)) {
    throw new ConfigError('--redis', 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0', url);
  }
  const sentinelText = optionalString('redisSentinels', raw.redisSentinels);
  const sentinels = (sentinelText ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const parsed = parseHostPort(s);
      if (parsed === undefined || parsed.port === 0) {
        throw new ConfigError('--redis-sentinels', 'comma-separated HOST:PORT of Sentinels, e.g. 10.0.0.1:26379,10.0.0.2:26379', sentinelText);
      }
      return parsed;
    });
  const tlsCaFile = optionalString('redisTlsCa', raw.redisTlsCa);
  return {
    url,
    sentinels,
    masterName: optionalString('redisMasterName', raw.redisMasterName) ?? DEFAULT_MASTER_NAME,
    password: optionalString('redisPassword', raw.redisPassword),
    sentinelPassword: optionalString('redisSentinelPassword', raw.redisSentinelPassword),
    tls: flag('redisTls', raw.redisTls) || (url?.startsWith('rediss://') ?? false),
    tlsCaFile,
  };
}

/** Validates raw configuration; throws ConfigError naming the first bad field. */
export function compileNodeOptions(raw: RawNodeConfig): NodeOptions {
  const known = new Set<string>(NODE_FIELDS.map((f) => f.key));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(key, `one of the known keys: ${[...known].join(', ')}`, key);
  }
  const nodeId = raw.nodeId ?? hostname();
  if (typeof nodeId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) {
    throw new ConfigError('--node-id', '1-64 characters of [A-Za-z0-9._-]', nodeId);
  }
  const logLevel = raw.logLevel ?? 'info';
  if (typeof logLevel !== 'string' || !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('--log-level', `one of ${LOG_LEVELS.join(', ')}`, logLevel);
  }
  const listen = address('listen', raw.listen, DEFAULT_LISTEN);
  const control = address('control', raw.control, DEFAULT_CONTROL);
  if (listen.port !== 0 && formatHostPort(listen) === formatHostPort(control)) {
    throw new ConfigError('--control', 'an address different from --listen', formatHostPort(control));
  }
  const maxStateBytes = integer('maxStateBytes', raw.maxStateBytes, DEFAULT_MAX_STATE_BYTES, 16, 64 * 1024 * 1024);
  return {
    nodeId,
    listen,
    control,
    handlers: handlers(raw.handlers),
    logLevel: logLevel as LevelWithSilent,
    graceMs: integer('graceMs', raw.graceMs, DEFAULT_GRACE_MS, 0, 600_000),
    maxSessions: integer('maxSessions', raw.maxSessions, DEFAULT_MAX_SESSIONS, 1, 50_000_000),
    maxStateBytes,
    maxOperationBytes: integer('maxOperationBytes', raw.maxOperationBytes, DEFAULT_MAX_OPERATION_BYTES, 16, 16 * 1024 * 1024),
    dedupeWindow: integer('dedupeWindow', raw.dedupeWindow, DEFAULT_DEDUPE_WINDOW, 1, 10_000),
    maxTimersPerSession: integer('maxTimersPerSession', raw.maxTimersPerSession, DEFAULT_MAX_TIMERS_PER_SESSION, 1, 10_000),
    role: oneOf('role', raw.role, 'primary', ['primary', 'secondary'] as const),
    cluster: cluster(raw.cluster),
    peer: raw.peer === undefined || raw.peer === '' ? undefined : address('peer', raw.peer, ''),
    redis: redisOptions(raw),
    durability: oneOf('durability', raw.durability, 'sync', ['sync', 'async'] as const),
    minReplicas: integer('minReplicas', raw.minReplicas, 0, 0, 1) as 0 | 1,
    backlogBytes: integer('backlogBytes', raw.backlogBytes, DEFAULT_BACKLOG_BYTES, 1024, 4 * 1024 * 1024 * 1024),
    snapshotIntervalMs: integer('snapshotIntervalMs', raw.snapshotIntervalMs, DEFAULT_SNAPSHOT_INTERVAL_MS, 10, 3_600_000),
    snapshotDirtyMax: integer('snapshotDirtyMax', raw.snapshotDirtyMax, DEFAULT_SNAPSHOT_DIRTY_MAX, 1, 10_000_000),
    snapshotBatch: integer('snapshotBatch', raw.snapshotBatch, DEFAULT_SNAPSHOT_BATCH, 1, 10_000),
    packIdleMs: integer('packIdleMs', raw.packIdleMs, DEFAULT_PACK_IDLE_MS, 0, 86_400_000),
    heartbeatMs: integer('heartbeatMs', raw.heartbeatMs, DEFAULT_HEARTBEAT_MS, 10, 60_000),
    peerTimeoutMs: integer('peerTimeoutMs', raw.peerTimeoutMs, DEFAULT_PEER_TIMEOUT_MS, 50, 600_000),
    bootstrapPeerWaitMs: integer('bootstrapPeerWaitMs', raw.bootstrapPeerWaitMs, DEFAULT_BOOTSTRAP_PEER_WAIT_MS, 0, 600_000),
    metrics: raw.metrics === undefined || raw.metrics === '' ? undefined : address('metrics', raw.metrics, ''),
  };
}

function cluster(value: unknown): string {
  const name = value ?? 'baton';
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new ConfigError('--cluster', '1-64 characters of [A-Za-z0-9._-]', name);
  }
  return name;
}
