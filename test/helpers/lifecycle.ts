import { afterAll, afterEach, beforeAll } from 'vitest';
import { killAllDaemons } from './daemon-process.js';
import { RedisServer } from './redis-server.js';

/**
 * Gives a test file its own redis-server (started before the first test,
 * killed after the last) and kills every daemon a test left running.
 * Returns a getter for the server.
 */
export function usePrivateRedis(): () => RedisServer {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    await killAllDaemons();
  });
  afterAll(async () => {
    await redis?.kill();
  });
  return () => {
    if (redis === undefined) throw new Error('the private redis-server is not running');
    return redis;
  };
}
