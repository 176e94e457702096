import { afterEach, describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import type { SessionRecord__Output } from '../../src/generated/baton/v1/SessionRecord.js';
import { Pair } from '../helpers/pair.js';
import type { PairOptions } from '../helpers/pair.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';

// Idle sessions are kept encoded (src/sessions/packed-record.ts): on both
// nodes of a pair, everything a session holds must come back unchanged
// when it is touched again.

const redisServer = usePrivateRedis();
const clients: BatonClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.shutdown();
});

const PACK_IDLE_MS = 300;
const SESSIONS = 30;

/** What must be identical on both nodes. */
function comparable(r: SessionRecord__Output): unknown {
  return {
    sessionId: r.sessionId,
    version: Number(r.version),
    owner: r.owner,
    state: Buffer.from(r.state).toString('utf8'),
    timers: r.timers.map((t) => [t.timerId, Number(t.deadlineMs)]),
    dedupe: r.dedupe.map((d) => [d.opId, Number(d.version), Buffer.from(d.reply).toString('utf8')]),
  };
}

async function started(options: PairOptions): Promise<{ pair: Pair; client: BatonClient }> {
  const pair = await Pair.start(options);
  const client = new BatonClient({ nodes: pair.nodes });
  clients.push(client);
  await pair.inSync();
  return { pair, client };
}

/** Opens SESSIONS counter sessions and applies `first(i)` to the i-th; returns their ids. */
async function openEach(client: BatonClient, first: (i: number) => { op: unknown; opId?: string }): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const { sessionId } = await client.open('counter', { params: { start: i } });
    const { op, opId } = first(i);
    await client.apply(sessionId, op, opId === undefined ? {} : { opId });
    ids.push(sessionId);
  }
  return ids;
}

async function allPacked(pair: Pair, name: 'a' | 'b', count: number): Promise<void> {
  await expect.poll(async () => Number((await pair.status(name)).sessionsPacked), { timeout: 10_000, interval: 50 }).toBe(count);
}

describe('idle sessions kept encoded', () => {
  it('come back whole on both nodes: state, dedupe window, timers and version', async () => {
    const { pair, client } = await started({ redisUrl: redisServer().url, cluster: 'packed', args: ['--pack-idle-ms', String(PACK_IDLE_MS)] });
    const ids = await openEach(client, (i) => ({ op: { type: 'add', by: 1 }, opId: `first-${i}` }));
    const timed = ids[0] as string;
    await client.apply(timed, { type: 'schedule', timerId: 'later', inMs: 2_500 });
    await pair.inSync();
    const before = (await pair.records('a')).map(comparable);
    expect((await pair.records('b')).map(comparable)).toEqual(before);

    await allPacked(pair, 'a', SESSIONS);
    await allPacked(pair, 'b', SESSIONS);
    // Listing reads packed sessions without unpacking them for good, by owner too.
    expect((await pair.records('a')).map(comparable)).toEqual(before);
    expect((await pair.records('b')).map(comparable)).toEqual(before);
    expect((await pair.records('b', 'a')).map(comparable)).toEqual(before);
    expect(await pair.records('a', 'b')).toEqual([]);
    const status = await pair.status('a');
    expect(Number(status.sessionsPacked)).toBe(SESSIONS);
    // Their bytes are in the packed store, off the heap: about a record each.
    expect(Number(status.packedBytes)).toBeGreaterThan(SESSIONS * 50);
    expect(Number(status.packedChunkBytes)).toBeGreaterThanOrEqual(Number(status.packedBytes));

    // A retry of an operation made before packing gets its original reply.
    const retry = await client.apply<{ value: number }>(ids[5] as string, { type: 'add', by: 1 }, { opId: 'first-5' });
    expect(retry).toMatchObject({ deduplicated: true, version: 1 });
    expect(retry.reply.value).toBe(6);
    // A new one continues from the stored version, and the replica follows.
    const next = await client.apply<{ value: number }>(ids[5] as string, { type: 'add', by: 10 });
    expect(next).toMatchObject({ deduplicated: false, version: 2 });
    expect(next.reply.value).toBe(16);
    // The timer set before packing fires once, on time, from the packed session.
    await expect
      .poll(async () => (await client.get<{ fired: string[] }>(timed)).state.fired, { timeout: 10_000, interval: 100 })
      .toEqual(['later']);
    await pair.inSync();
    const owner = (await pair.records('a')).map(comparable);
    expect((await pair.records('b')).map(comparable)).toEqual(owner);
    const changed = owner.filter((r, i) => JSON.stringify(r) !== JSON.stringify(before[i]));
    expect(changed.map((r) => (r as { sessionId: string }).sessionId).sort()).toEqual([ids[5], timed].sort());
  });

  it('are copied whole to a replica that needs a full copy', async () => {
    // No Redis: the owner streams its sessions, most of them packed.
    const { pair, client } = await started({ args: ['--pack-idle-ms', String(PACK_IDLE_MS)], argsA: ['--backlog-bytes', '2048'] });
    const ids = await openEach(client, () => ({ op: { type: 'schedule', timerId: 'far', inMs: 600_000 } }));
    pair.node('b').signal('SIGKILL');
    await pair.node('b').waitExit();
    // Far more than the backlog holds, all on one session: the others go idle.
    for (let i = 0; i < 100; i++) await client.apply(ids[0] as string, { type: 'add' });
    await allPacked(pair, 'a', SESSIONS);
    await pair.startNode('b');
    await pair.inSync();
    expect((await pair.status('b')).replication?.resyncPath).toBe('full-stream');
    const onA = (await pair.records('a')).map(comparable);
    expect(onA).toHaveLength(SESSIONS);
    expect((await pair.records('b')).map(comparable)).toEqual(onA);
    // Copying them out did not unpack them.
    expect(Number((await pair.status('a')).sessionsPacked)).toBe(SESSIONS);
  });

  it('are handed back whole from the replica to a restarted owner', async () => {
    // Redis never sees the changes: only the replica's packed copies have them.
    const { pair, client } = await started({
      redisUrl: redisServer().url,
      cluster: 'packed-handback',
      args: ['--pack-idle-ms', String(PACK_IDLE_MS)],
      argsA: ['--snapshot-interval-ms', '600000'],
    });
    const ids = await openEach(client, (i) => ({ op: { type: 'add', by: i }, opId: `first-${i}` }));
    await pair.inSync();
    const before = (await pair.records('a')).map(comparable);
    await allPacked(pair, 'b', SESSIONS);
    pair.node('a').signal('SIGKILL');
    await pair.node('a').waitExit();
    await pair.startNode('a');
    expect(pair.node('a').logs.some((l) => l.msg.includes('took back the newest copies') && l.sessions === SESSIONS)).toBe(true);
    expect((await pair.records('a')).map(comparable)).toEqual(before);
    const retry = await client.apply<{ value: number }>(ids[3] as string, { type: 'add', by: 3 }, { opId: 'first-3' });
    expect(retry).toMatchObject({ deduplicated: true, version: 1 });
    expect(retry.reply.value).toBe(6);
  });

  it('are what a restarted node loads from the snapshot, and serves', async () => {
    const { pair, client } = await started({ redisUrl: redisServer().url, cluster: 'packed-boot', args: ['--snapshot-interval-ms', '100'] });
    const ids = await Promise.all(Array.from({ length: SESSIONS }, async () => (await client.open('counter')).sessionId));
    await pair.inSync();
    await pair.node('a').stop();
    await pair.node('b').stop();
    await pair.startNode('a');
    await pair.startNode('b');
    const status = await pair.status('a');
    expect(status.snapshot).toMatchObject({ bootstrapLoaded: SESSIONS, corruptRecords: 0 });
    expect(Number(status.sessionsPacked)).toBe(SESSIONS);
    await pair.inSync();
    expect((await client.apply(ids[0] as string, { type: 'add' })).version).toBe(1);
    expect(Number((await pair.status('a')).sessionsPacked)).toBe(SESSIONS - 1);
  });
});
