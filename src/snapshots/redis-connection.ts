import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { RedisOptions as IoRedisOptions } from 'ioredis';
import { defineScripts } from './redis-scripts.js';
import type { RedisOptions } from './redis-options.js';

/** Longest pause between reconnect attempts. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * Opens the connection snapshots use. Commands fail at once while Redis is
 * unreachable (no offline queue): serving and replication never wait on
 * Redis, and the snapshot writer retries on its next round.
 */
export function connectRedis(options: RedisOptions): Redis {
  const common: IoRedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A snapshot write cut by a disconnect fails; the writer retries it whole.
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, MAX_RECONNECT_DELAY_MS),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls || options.tlsCaFile !== undefined
      ? { tls: options.tlsCaFile === undefined ? {} : { ca: readFileSync(options.tlsCaFile) } }
      : {}),
  };
  const redis =
    options.sentinels.length > 0
      ? new Redis({
          ...common,
          sentinels: options.sentinels.map((s) => ({ host: s.host, port: s.port })),
          name: options.masterName,
          ...(options.sentinelPassword ?? options.password
            ? { sentinelPassword: (options.sentinelPassword ?? options.password) as string }
            : {}),
        })
      : new Redis(options.url as string, common);
  // Errors surface through the commands that fail; keep ioredis from
  // printing unhandled-error warnings on every reconnect attempt.
  redis.on('error', () => {});
  defineScripts(redis);
  return redis;
}

/** Resolves true once connected, false after `timeoutMs`. */
export function waitReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
