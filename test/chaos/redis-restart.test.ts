import { describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import { decodeRecord } from '../../src/replication/record-codec.js';
import { CounterLoad } from '../helpers/counter-load.js';
import { Pair } from '../helpers/pair.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';

const redisServer = usePrivateRedis();


describe('Redis killed and restarted empty under load', () => {
  it('loses nothing: serving and replication go on, and the snapshot is refilled', async () => {
    const pair = await Pair.start({ redisUrl: redisServer().url, cluster: 'flaky', args: ['--snapshot-interval-ms', '200'] });
    await pair.inSync();
    const client = new BatonClient({ nodes: pair.nodes, deadlineMs: 5_000 });
    const sessions = await Promise.all(Array.from({ length: 20 }, () => client.open('counter')));
    const load = new CounterLoad(client, sessions.map((s) => s.sessionId), 2);
    await expect.poll(() => load.ackedCount, { timeout: 20_000 }).toBeGreaterThan(500);

    await redisServer().kill();
    await expect.poll(async () => (await pair.status('a')).snapshot?.redisConnected, { timeout: 10_000 }).toBe(false);
    const during = load.ackedCount;
    await expect.poll(() => load.ackedCount, { timeout: 20_000 }).toBeGreaterThan(during + 500);
    const a = await pair.status('a');
    expect(a.warnings.join('\n')).toMatch(/Redis unreachable: snapshots paused, serving continues/);
    expect(a.replication?.replicaAttached).toBe(true);

    await redisServer().restart();
    await expect.poll(async () => (await pair.status('a')).snapshot?.refills, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await load.stop();
    client.shutdown();
    expect(load.failures).toEqual([]);

    await pair.inSync();
    await expect
      .poll(async () => {
        const s = await pair.status('a');
        return s.snapshot?.dirtySessions === 0 && s.snapshot?.watermarkOffset === s.replication?.offset;
      }, { timeout: 10_000 })
      .toBe(true);
    const onA = new Map((await pair.records('a')).map((r) => [r.sessionId, Number(r.version)]));
    const onB = new Map((await pair.records('b')).map((r) => [r.sessionId, Number(r.version)]));
    const probe = redisServer().client();
    const inRedis = new Map<string, number>();
    for (const key of await probe.keys('baton:{flaky}:s:*')) {
      const record = decodeRecord((await probe.hgetallBuffer(key)).r as Buffer);
      inRedis.set(record.sessionId, record.version);
    }
    probe.disconnect();
    expect(onB).toEqual(onA);
    expect(inRedis).toEqual(onA);
    for (const [id, max] of load.maxAcked()) expect(onA.get(id)).toBe(max);
  });
});
