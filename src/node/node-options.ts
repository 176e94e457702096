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
}

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
  };
}
