import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineChangeEncoder } from '../../src/replication/change-encoder.js';
import { ReplicationLog } from '../../src/replication/replication-log.js';
import { HandlerRegistry } from '../../src/sessions/handler-registry.js';
import { SessionEngine } from '../../src/sessions/session-engine.js';
import { SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { SnapshotWriter } from '../../src/snapshots/snapshot-writer.js';
import { RedisServer } from '../helpers/redis-server.js';
import { COUNTER_HANDLER } from '../helpers/paths.js';

const SESSIONS = 2_000;
const BATCH = 32;

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = await redis.snapshotConnection();
});
afterAll(async () => {
  client?.disconnect();
  await redis?.kill();
});

describe('a snapshot flush', () => {
  it('gives the event loop a turn after every batch, however fast Redis answers', async () => {
    const logger = pino({ level: 'silent' });
    const registry = new HandlerRegistry();
    await registry.load('counter', COUNTER_HANDLER);
    const engine = new SessionEngine(
      { nodeId: 'flush-a', maxSessions: SESSIONS, maxStateBytes: 10_000, maxOperationBytes: 1_000, dedupeWindow: 32, maxTimersPerSession: 8 },
      registry,
      logger,
    );
    engine.start();
    const store = new SnapshotStore(client, 'flush-test', logger);
    await store.register('flush-a');
    const writer = new SnapshotWriter({ nodeId: 'flush-a', intervalMs: 3_600_000, dirtyMax: 10 * SESSIONS, batch: BATCH }, store, engine, new ReplicationLog(0, new EngineChangeEncoder()), logger);
    for (let i = 0; i < SESSIONS; i++) {
      engine.open({ sessionType: 'counter', sessionId: `s${i}`, params: { data: Buffer.alloc(0), contentType: '' }, opId: '' });
    }

    // Work waiting in the loop's check phase (as I/O callbacks do in the
    // poll phase) only runs when the flush yields a turn.
    let turns = 0;
    let flushing = true;
    const tick = (): void => {
      turns += 1;
      if (flushing) setImmediate(tick);
    };
    setImmediate(tick);
    // The loop turn each batch was sent in.
    const sentInTurn: number[] = [];
    const write = store.write.bind(store);
    store.write = (...args) => {
      sentInTurn.push(turns);
      return write(...args);
    };
    await writer.flush();
    flushing = false;

    expect(writer.status().recordsWritten).toBe(SESSIONS);
    expect(await client.dbsize()).toBeGreaterThanOrEqual(SESSIONS);
    // Every batch in a turn of its own: a flush that ran batches back to
    // back in microtasks (as it did when replies had already arrived) would
    // hold every operation behind it.
    expect(sentInTurn).toHaveLength(Math.ceil(SESSIONS / BATCH));
    const sharedTurns = sentInTurn.filter((turn, i) => i > 0 && turn === sentInTurn[i - 1]);
    expect(sharedTurns).toEqual([]);
  });
});
