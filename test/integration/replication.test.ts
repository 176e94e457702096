import { credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { BatonClient, RemoteError } from '../../src/index.js';
import type { SessionRecord__Output } from '../../src/generated/baton/v1/SessionRecord.js';
import type { SourceMessage__Output } from '../../src/generated/baton/v1/SourceMessage.js';
import { decodeRecord } from '../../src/replication/record-codec.js';
import { loadBatonProto } from '../../src/rpc/proto-loader.js';
import { Pair } from '../helpers/pair.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';

const redisServer = usePrivateRedis();
const clients: BatonClient[] = [];


afterEach(async () => {
  for (const c of clients.splice(0)) c.shutdown();
});


let clusterSeq = 0;
async function pair(args: Partial<Parameters<typeof Pair.start>[0]> = {}): Promise<{ pair: Pair; client: BatonClient }> {
  clusterSeq += 1;
  const p = await Pair.start({ redisUrl: redisServer().url, cluster: `repl${clusterSeq}`, ...args });
  const client = new BatonClient({ nodes: p.nodes });
  clients.push(client);
  await p.inSync();
  return { pair: p, client };
}

/** What must be identical wherever a session is stored. */
function comparable(r: SessionRecord__Output | ReturnType<typeof decodeRecord>): unknown {
  return {
    sessionId: r.sessionId,
    sessionType: r.sessionType,
    version: Number(r.version),
    owner: r.owner,
    schemaVersion: r.schemaVersion,
    state: Buffer.from(r.state).toString('utf8'),
    timers: r.timers.map((t) => [t.timerId, Number(t.deadlineMs), Buffer.from(t.payload).toString('utf8')]),
    dedupe: r.dedupe.map((d) => [d.opId, Number(d.version), Buffer.from(d.reply).toString('utf8')]),
  };
}

async function redisRecords(cluster: string): Promise<unknown[]> {
  const client = redisServer().client();
  try {
    const keys = (await client.keys(`baton:{${cluster}}:s:*`)).sort();
    const out = [];
    for (const key of keys) out.push(comparable(decodeRecord((await client.hgetallBuffer(key)).r as Buffer)));
    return out.sort((x, y) => ((x as { sessionId: string }).sessionId < (y as { sessionId: string }).sessionId ? -1 : 1));
  } finally {
    client.disconnect();
  }
}

/** Waits until the primary's snapshot reflects its whole log. */
async function snapshotCaughtUp(p: Pair): Promise<void> {
  await expect
    .poll(async () => {
      const s = await p.status('a');
      return s.snapshot?.watermarkOffset === s.replication?.offset && s.snapshot?.dirtySessions === 0;
    }, { timeout: 10_000, interval: 50 })
    .toBe(true);
}

describe('a replicated pair', () => {
  it('holds identical sessions on both nodes and in Redis after many random operations', async () => {
    const { pair: p, client } = await pair();
    const counters = await Promise.all(Array.from({ length: 30 }, () => client.open('counter')));
    const calls = await Promise.all(Array.from({ length: 10 }, () => client.open('call', { params: { from: 'a', to: 'b' } })));
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 1_500; i++) {
      const pick = Math.random();
      const counter = counters[Math.floor(Math.random() * counters.length)] as { sessionId: string };
      if (pick < 0.8) ops.push(client.apply(counter.sessionId, { type: 'add', by: Math.floor(Math.random() * 10) }));
      else if (pick < 0.9) ops.push(client.apply(counter.sessionId, { type: 'schedule', timerId: `t${i % 5}`, inMs: 600_000 }));
      else {
        const call = calls[Math.floor(Math.random() * calls.length)] as { sessionId: string };
        const type = ['answer', 'hold', 'resume'][Math.floor(Math.random() * 3)] as string;
        ops.push(client.apply(call.sessionId, { type }).catch((e: RemoteError) => expect(e.handlerCode).toBe('INVALID_TRANSITION')));
      }
    }
    await Promise.all(ops);
    for (const c of counters.slice(0, 5)) await client.close(c.sessionId);
    await p.inSync();
    await snapshotCaughtUp(p);

    const [onA, onB] = await Promise.all([p.records('a'), p.records('b')]);
    expect(onA).toHaveLength(35);
    expect(onB.map(comparable)).toEqual(onA.map(comparable));
    expect(await redisRecords(p.options.cluster as string)).toEqual(onA.map(comparable));
    const [a, b] = await Promise.all([p.status('a'), p.status('b')]);
    expect(a).toMatchObject({ role: 'primary', sessionsOwned: 35, sessionsReplicated: 0 });
    expect(b).toMatchObject({ role: 'secondary', sessionsOwned: 0, sessionsReplicated: 35 });
    expect(b.replication).toMatchObject({ inSync: true, upstreamState: 'streaming', upstreamLagRecords: 0 });
    expect(b.peer).toMatchObject({ connected: true, nodeId: 'a' });
    expect(a.snapshot).toMatchObject({ configured: true, redisConnected: true, dirtySessions: 0 });
    expect(a.snapshot?.ageMs).toBeGreaterThanOrEqual(0);
  });

  it('redirects opens and operations sent to the secondary to the primary', async () => {
    const { pair: p } = await pair();
    const viaSecondary = new BatonClient({ nodes: [p.node('b').sessionAddress] });
    clients.push(viaSecondary);
    const session = await viaSecondary.open<{ value: number }>('counter');
    expect(session.owner).toBe('a');
    const result = await viaSecondary.apply<{ value: number }>(session.sessionId, { type: 'add', by: 2 });
    expect(result.reply.value).toBe(2);
    // A client that knows no owner yet: its first attempt reaches the
    // secondary, and the retry loop follows the redirect.
    const fresh = new BatonClient({ nodes: [p.node('b').sessionAddress] });
    clients.push(fresh);
    const redirected = await fresh.apply<{ value: number }>(session.sessionId, { type: 'add', by: 3 });
    expect(redirected).toMatchObject({ reply: { value: 5 }, version: 2, attempts: 2, deduplicated: false });
    // A session the secondary does not hold is the primary's to deny.
    const viaSecondaryOnly = new BatonClient({ nodes: [p.node('b').sessionAddress], deadlineMs: 2_000 });
    clients.push(viaSecondaryOnly);
    await expect(viaSecondaryOnly.get('never-opened')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });

  it('resumes a restarted replica from the backlog (partial resync)', async () => {
    const { pair: p, client } = await pair();
    const s = await client.open<{ value: number }>('counter');
    for (let i = 0; i < 20; i++) await client.apply(s.sessionId, { type: 'add' });
    await p.inSync();
    await snapshotCaughtUp(p);
    p.node('b').signal('SIGKILL');
    await p.node('b').waitExit();
    for (let i = 0; i < 20; i++) await client.apply(s.sessionId, { type: 'add' });
    await p.startNode('b');
    await p.inSync();
    const b = await p.status('b');
    expect(b.replication?.resyncPath).toBe('partial');
    expect(p.node('b').logs.some((l) => l.msg.includes('partial resync'))).toBe(true);
    const [onA, onB] = await Promise.all([p.records('a'), p.records('b')]);
    expect(onB.map(comparable)).toEqual(onA.map(comparable));
    expect(Number(onB[0]?.version)).toBe(40);
  });

  it('resyncs a replica that fell behind the backlog fully from Redis', async () => {
    const { pair: p, client } = await pair({ argsA: ['--backlog-bytes', '4096', '--snapshot-interval-ms', '600000'] });
    const sessions = await Promise.all(Array.from({ length: 10 }, () => client.open<{ value: number }>('counter')));
    await p.inSync();
    p.node('b').signal('SIGKILL');
    await p.node('b').waitExit();
    // Far more than 4 KiB of changes while the replica is away.
    await Promise.all(sessions.flatMap((s) => Array.from({ length: 30 }, () => client.apply(s.sessionId, { type: 'add', by: 3 }))));
    await p.startNode('b');
    await p.inSync();
    expect((await p.status('b')).replication?.resyncPath).toBe('full-redis');
    expect(p.node('a').logs.some((l) => l.msg.includes('must load the Redis snapshot'))).toBe(true);
    const [onA, onB] = await Promise.all([p.records('a'), p.records('b')]);
    expect(onB.map(comparable)).toEqual(onA.map(comparable));
    for (const r of onB) expect(JSON.parse(Buffer.from(r.state).toString())).toMatchObject({ value: 90 });
    // No heartbeat of an ended stream lingers: quiet past the peer timeout, then a clean stop.
    const logged = p.node('b').logs.length;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(p.node('b').logs.slice(logged).filter((l) => l.level >= 40)).toEqual([]);
    for (const name of ['b', 'a'] as const) {
      p.node(name).signal('SIGTERM');
      expect(await p.node(name).waitExit(5_000)).toEqual({ code: 0, signal: null });
    }
  });

  it('streams a full copy when Redis cannot help', async () => {
    // No Redis at all: the owner has no snapshot to offer.
    const { pair: p, client } = await pair({ redisUrl: undefined, argsA: ['--backlog-bytes', '2048'] });
    const s = await client.open('counter');
    p.node('b').signal('SIGKILL');
    await p.node('b').waitExit();
    for (let i = 0; i < 100; i++) await client.apply(s.sessionId, { type: 'add' });
    await p.startNode('b');
    await p.inSync();
    expect((await p.status('b')).replication?.resyncPath).toBe('full-stream');
    expect((await p.records('b')).map(comparable)).toEqual((await p.records('a')).map(comparable));
  });

  it('brings a restarted owner back with every acknowledged change and serves again', async () => {
    const { pair: p, client } = await pair({ argsA: ['--snapshot-interval-ms', '600000'] });
    const s = await client.open<{ value: number }>('counter');
    let last = 0;
    for (let i = 0; i < 50; i++) last = (await client.apply<{ value: number }>(s.sessionId, { type: 'add' })).reply.value;
    expect(last).toBe(50);
    // Redis has not seen these changes (no flush yet); the replica has.
    p.node('a').signal('SIGKILL');
    await p.node('a').waitExit();
    await p.startNode('a');
    expect(p.node('a').logs.some((l) => l.msg.includes('took back the newest copies') && l.sessions === 1)).toBe(true);
    const next = await client.apply<{ value: number }>(s.sessionId, { type: 'add' });
    expect(next.reply.value).toBe(51);
    await p.inSync();
    expect((await p.records('b')).map(comparable)).toEqual((await p.records('a')).map(comparable));
  });

  it('refuses writes with --min-replicas 1 while the replica is away, changing nothing', async () => {
    const { pair: p, client } = await pair({ argsA: ['--min-replicas', '1'] });
    const s = await client.open('counter');
    await client.apply(s.sessionId, { type: 'add' });
    p.node('b').signal('SIGKILL');
    await p.node('b').waitExit();
    await expect.poll(async () => (await p.status('a')).replication?.replicaAttached, { timeout: 10_000 }).toBe(false);
    const err = await client.apply(s.sessionId, { type: 'add' }, { deadlineMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).code).toBe('ERR_NO_REPLICA');
    expect((err as RemoteError).message).toMatch(/no replica is attached and --min-replicas is 1/);
    expect((await client.get(s.sessionId)).version).toBe(1);
    const a = await p.status('a');
    expect(a.warnings.join('\n')).toMatch(/writes are refused \(--min-replicas 1\)/);
  });

  it('runs solo, loudly, when the replica is away, and takes it back', async () => {
    const { pair: p, client } = await pair({ argsA: ['--metrics', '127.0.0.1:0'] });
    const metricsUrl = `http://${String(p.node('a').logs.find((l) => l.msg === 'node ready')?.metricsAddress)}/metrics`;
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^baton_solo\{node="a",cluster="repl\d+",role="primary"\} 0$/m);
    const s = await client.open('counter');
    p.node('b').signal('SIGKILL');
    await p.node('b').waitExit();
    await expect.poll(async () => (await p.status('a')).replication?.solo, { timeout: 10_000 }).toBe(true);
    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toMatch(/^baton_solo\{node="a",cluster="repl\d+",role="primary"\} 1$/m);
    expect(metrics).toMatch(/^baton_replica_attached\{.*\} 0$/m);
    expect(metrics).toMatch(/^baton_event_loop_delay_p99_seconds\{node="a",.*\} [\d.e-]+$/m);
    expect(metrics).toMatch(/^baton_packed_bytes\{node="a",.*,kind="chunks"\} \d+$/m);
    expect((await client.apply(s.sessionId, { type: 'add' })).version).toBe(1);
    const a = await p.status('a');
    expect(a.warnings.join('\n')).toMatch(/running solo/);
    expect(p.node('a').logs.some((l) => l.msg === 'replica detached: running solo')).toBe(true);
    await p.startNode('b');
    await p.inSync();
    expect((await p.status('a')).replication?.solo).toBe(false);
  });
});

describe('the peer handshake', () => {
  it('refuses a peer whose protocol range does not overlap, naming both ranges', async () => {
    const { pair: p } = await pair();
    const proto = loadBatonProto();
    const raw = new proto.baton.v1.PeerService(p.controlA, credentials.createInsecure());
    const call = raw.Replicate();
    const failure = new Promise<ServiceError>((resolve) => {
      call.on('error', resolve);
      call.on('data', (m: SourceMessage__Output) => expect(m).toBeUndefined());
    });
    call.write({
      hello: { cluster: p.options.cluster, nodeId: 'future', release: '9.0.0', protocolMin: 2, protocolMax: 3, role: 'secondary', replicationId: '', offset: 0, sessionAddress: '' },
    });
    const err = await failure;
    raw.close();
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/no common peer protocol version: node a \(release [\d.]+\) speaks 1, node future \(release 9.0.0\) speaks 2-3/);
  });

  it('refuses a peer from another cluster and two nodes of the same role', async () => {
    const { pair: p } = await pair();
    const proto = loadBatonProto();
    for (const [hello, message] of [
      [{ cluster: 'other', role: 'secondary' }, /cluster mismatch: node a is in cluster "repl\d+", node x in "other"/],
      [{ cluster: p.options.cluster, role: 'primary' }, /both nodes \(a and x\) are configured as primary/],
    ] as const) {
      const raw = new proto.baton.v1.PeerService(p.controlA, credentials.createInsecure());
      const call = raw.Replicate();
      const failure = new Promise<ServiceError>((resolve) => call.on('error', resolve));
      call.write({ hello: { ...hello, nodeId: 'x', release: '0', protocolMin: 1, protocolMax: 1 } });
      const err = await failure;
      raw.close();
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toMatch(message);
    }
  });
});
