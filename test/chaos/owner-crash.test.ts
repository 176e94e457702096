import { describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import { CounterLoad } from '../helpers/counter-load.js';
import { Pair } from '../helpers/pair.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';

const redisServer = usePrivateRedis();


describe('kill -9 of the owner in sync mode', () => {
  it('leaves every acknowledged operation on the replica', async () => {
    const pair = await Pair.start({ redisUrl: redisServer().url, cluster: 'crash', args: ['--durability', 'sync'] });
    await pair.inSync();
    const client = new BatonClient({ nodes: pair.nodes, deadlineMs: 1_000, attemptTimeoutMs: 300 });
    const sessions = await Promise.all(Array.from({ length: 24 }, () => client.open('counter')));
    const load = new CounterLoad(client, sessions.map((s) => s.sessionId), 4, true);
    await expect.poll(() => load.ackedCount, { timeout: 20_000 }).toBeGreaterThan(3_000);
    pair.node('a').signal('SIGKILL');
    await pair.node('a').waitExit();
    await load.stop();
    client.shutdown();

    const onReplica = new Map((await pair.records('b')).map((r) => [r.sessionId, r]));
    let checked = 0;
    for (const [sessionId, max] of load.maxAcked()) {
      const record = onReplica.get(sessionId);
      expect(record, `session ${sessionId} on the replica`).toBeDefined();
      const value = (JSON.parse(Buffer.from(record?.state ?? []).toString()) as { value: number }).value;
      // Each add is +1 and version +1: the replica has at least every acknowledged one.
      expect(value).toBeGreaterThanOrEqual(max);
      expect(Number(record?.version)).toBe(value);
      // Acknowledged values are distinct: no operation was applied twice.
      const list = load.acked.get(sessionId) ?? [];
      expect(new Set(list).size).toBe(list.length);
      checked += list.length;
    }
    expect(checked).toBeGreaterThan(3_000);
  });
});
