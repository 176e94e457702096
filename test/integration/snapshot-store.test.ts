import pino from 'pino';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/replication/record-codec.js';
import { dedupeEntry } from '../../src/sessions/session-record.js';
import type { SessionRecord } from '../../src/sessions/session-record.js';
import { ScriptCode } from '../../src/snapshots/redis-scripts.js';
import { SnapshotRefusedError, SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import type { LoadedRecord } from '../../src/snapshots/snapshot-store.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';

// The snapshot store's writes and loads against a real redis-server, below
// the daemon: what the write-records script writes, and its fencing.

const redisServer = usePrivateRedis();
const OWNER = 'store-a';
let cluster = 0;
let redis: Redis;
let probe: Redis;
let store: SnapshotStore;

beforeEach(async () => {
  cluster += 1;
  redis = await redisServer().snapshotConnection();
  probe = redisServer().client();
  store = new SnapshotStore(redis, `store-${cluster}`, pino({ level: 'silent' }));
  await store.register(OWNER);
});

afterEach(() => {
  redis.disconnect();
  probe.disconnect();
});

function record(sessionId: string, version: number, state: string): SessionRecord {
  return {
    sessionId, sessionType: 'counter', version, schemaVersion: 1, owner: OWNER, epoch: 3, state, timers: [],
    dedupe: [dedupeEntry(`c:${version}`, version, '{"value":1}')], createdAtMs: 1, updatedAtMs: 2,
  };
}

async function loadAll(): Promise<Map<string, LoadedRecord>> {
  const found = new Map<string, LoadedRecord>();
  const loaded = await store.load((r) => found.set(r.sessionId, r));
  expect(loaded.corrupt).toEqual([]);
  return found;
}

describe('the snapshot store', () => {
  it('writes a batch of sets and deletes byte for byte, with their version, epoch and owner fields', async () => {
    // States with zero and high bytes, and a record larger than 64 KiB.
    const records = [
      record('s-1', 7, '{"a":1}'),
      record('s-2', 2 ** 40 + 3, '\u0000\u00ff'),
      record('s-3', 1, 'x'.repeat(70_000)),
    ];
    const payloads = records.map((r) => encodeRecord(r));
    await store.write(3, OWNER, [{ sessionId: 'gone', version: 1, payload: encodeRecord(record('gone', 1, '{}')) }]);
    const written = await store.write(3, OWNER, [
      { sessionId: 's-1', version: 7, payload: payloads[0] },
      { sessionId: 'gone', version: undefined, payload: undefined },
      { sessionId: 's-2', version: 2 ** 40 + 3, payload: payloads[1] },
      { sessionId: 's-3', version: 1, payload: payloads[2] },
    ]);
    expect(written).toBe(4);
    const found = await loadAll();
    expect([...found.keys()].sort()).toEqual(['s-1', 's-2', 's-3']);
    records.forEach((r, i) => {
      expect(Buffer.compare(found.get(r.sessionId)?.packed as Buffer, payloads[i] as Buffer)).toBe(0);
    });
    const fields = await probe.hgetall(`baton:{store-${cluster}}:s:s-2`);
    expect({ v: fields.v, e: fields.e, o: fields.o }).toEqual({ v: String(2 ** 40 + 3), e: '3', o: OWNER });
    expect(await probe.get(`baton:{store-${cluster}}:epoch`)).toBe('3');
  });

  it('never overwrites a record stamped by a newer epoch, and counts only what it wrote', async () => {
    const key = `baton:{store-${cluster}}:s:newer`;
    await probe.hset(key, 'v', '9', 'e', '5', 'o', 'store-b', 'r', 'theirs');
    const written = await store.write(3, OWNER, [
      { sessionId: 'newer', version: 10, payload: encodeRecord(record('newer', 10, '{}')) },
      { sessionId: 'mine', version: 1, payload: encodeRecord(record('mine', 1, '{}')) },
    ]);
    expect(written).toBe(1);
    expect(await probe.hgetall(key)).toEqual({ v: '9', e: '5', o: 'store-b', r: 'theirs' });
    expect(await probe.hget(`baton:{store-${cluster}}:s:mine`, 'v')).toBe('1');
  });

  it('refuses a whole batch from a writer whose epoch is older than the cluster epoch', async () => {
    await probe.set(`baton:{store-${cluster}}:epoch`, '8');
    const write = store.write(3, OWNER, [{ sessionId: 's-1', version: 1, payload: encodeRecord(record('s-1', 1, '{}')) }]);
    await expect(write).rejects.toThrow(/Redis has seen epoch 8, newer than this node's/);
    await expect(write).rejects.toMatchObject({ code: ScriptCode.StaleEpoch });
    expect(await probe.exists(`baton:{store-${cluster}}:s:s-1`)).toBe(0);
  });

  it('refuses a batch once Redis lost the writer\'s registration', async () => {
    await probe.del(`baton:{store-${cluster}}:node:${OWNER}`);
    const write = store.write(3, OWNER, [{ sessionId: 's-1', version: 1, payload: encodeRecord(record('s-1', 1, '{}')) }]);
    await expect(write).rejects.toBeInstanceOf(SnapshotRefusedError);
    await expect(write).rejects.toMatchObject({ code: ScriptCode.NotRegistered });
    expect(await probe.exists(`baton:{store-${cluster}}:s:s-1`)).toBe(0);
  });
});
