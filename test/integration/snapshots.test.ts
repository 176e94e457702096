import { afterEach, describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import { DaemonProcess } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { nodeRecords, nodeStatus } from '../helpers/pair.js';
import { usePrivateRedis } from '../helpers/lifecycle.js';
import { runCli } from '../helpers/run-cli.js';
import { COUNTER_HANDLER } from '../helpers/paths.js';

const redisServer = usePrivateRedis();
const clients: BatonClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.shutdown();
});

async function single(cluster: string, args: string[] = []): Promise<{ node: DaemonProcess; client: BatonClient }> {
  const node = await DaemonProcess.start({ nodeId: 'solo', args: ['--redis', redisServer().url, '--cluster', cluster, '--snapshot-interval-ms', '100', ...args] });
  const client = new BatonClient({ nodes: [node.sessionAddress] });
  clients.push(client);
  return { node, client };
}

async function flushed(node: DaemonProcess): Promise<void> {
  await expect
    .poll(async () => {
      const s = await nodeStatus(node.controlAddress);
      return s.snapshot?.dirtySessions === 0 && s.snapshot?.watermarkOffset === s.replication?.offset;
    }, { timeout: 10_000, interval: 50 })
    .toBe(true);
}

describe('bootstrap from the Redis snapshot', () => {
  it('loads every session of a restarted node (pipelined) and serves them', async () => {
    const { node, client } = await single('boot');
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => client.open('counter', { params: { start: 1 } })));
      ids.push(...batch.map((s) => s.sessionId));
    }
    await Promise.all(ids.slice(0, 100).map((id) => client.apply(id, { type: 'add', by: 9 })));
    await flushed(node);
    const before = await nodeRecords(node.controlAddress);
    await node.stop();

    const { node: again, client: c2 } = await single('boot');
    const status = await nodeStatus(again.controlAddress);
    expect(status.snapshot).toMatchObject({ bootstrapLoaded: 2_000, corruptRecords: 0 });
    expect(status.sessionsOwned).toBe(2_000);
    const after = await nodeRecords(again.controlAddress);
    expect(after.map((r) => [r.sessionId, Number(r.version), Buffer.from(r.state).toString()])).toEqual(
      before.map((r) => [r.sessionId, Number(r.version), Buffer.from(r.state).toString()]),
    );
    expect((await c2.apply<{ value: number }>(ids[0] as string, { type: 'add' })).reply.value).toBe(11);
  });

  it('skips and reports corrupt records without crashing, and serves the rest', async () => {
    const { node, client } = await single('corrupt');
    const sessions = await Promise.all(Array.from({ length: 5 }, () => client.open('counter')));
    await flushed(node);
    await node.stop();
    const probe = redisServer().client();
    const [bad1, bad2] = sessions.map((s) => `baton:{corrupt}:s:${s.sessionId}`);
    await probe.hset(bad1 as string, 'r', Buffer.from([0xff, 0x00, 0x13, 0x37]));
    await probe.hset(bad2 as string, 'v', '999');
    probe.disconnect();

    const { node: again, client: c2 } = await single('corrupt');
    const status = await nodeStatus(again.controlAddress);
    expect(status.snapshot?.corruptRecords).toBe(2);
    expect(status.warnings.join('\n')).toMatch(/2 corrupt snapshot records were skipped at start/);
    expect(again.logs.filter((l) => l.msg === 'corrupt snapshot record skipped').map((l) => l.key).sort()).toEqual([bad1, bad2].sort());
    expect(status.sessionsOwned).toBe(3);
    await expect(c2.get(sessions[0]?.sessionId as string)).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    expect((await c2.apply(sessions[4]?.sessionId as string, { type: 'add' })).version).toBe(1);
  });

  it('starts without Redis when it is unreachable, and snapshots once it is back', async () => {
    const port = await freePort();
    const node = await DaemonProcess.start({
      nodeId: 'late',
      args: ['--redis', `redis://127.0.0.1:${port}`, '--cluster', 'late', '--snapshot-interval-ms', '100'],
    });
    const client = new BatonClient({ nodes: [node.sessionAddress] });
    clients.push(client);
    expect(node.logs.some((l) => l.msg.startsWith('Redis unreachable at start'))).toBe(true);
    const s = await client.open('counter');
    expect((await nodeStatus(node.controlAddress)).warnings.join('\n')).toMatch(/Redis unreachable/);
    const { spawn } = await import('node:child_process');
    const late = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await flushed(node);
      const { Redis } = await import('ioredis');
      const probe = new Redis(port, '127.0.0.1');
      expect(await probe.exists(`baton:{late}:s:${s.sessionId}`)).toBe(1);
      probe.disconnect();
    } finally {
      late.kill('SIGKILL');
    }
    // With Redis gone again, SIGTERM still ends the process.
    await expect.poll(async () => (await nodeStatus(node.controlAddress)).snapshot?.redisConnected, { timeout: 10_000 }).toBe(false);
    node.signal('SIGTERM');
    expect(await node.waitExit(8_000)).toEqual({ code: 0, signal: null });
  });
});

describe('Redis that must not be used', () => {
  it('refuses a Redis holding another pair of this cluster name, changing nothing', async () => {
    const probe = redisServer().client();
    await probe.hset('baton:{taken}:meta', 'cluster', 'taken', 'format', '1', 'nodes', 'x,y');
    const { code, stderr } = await runCli([
      'daemon', '--node-id', 'z', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0',
      '--handler', `counter=${COUNTER_HANDLER}`, '--redis', redisServer().url, '--cluster', 'taken',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Redis holds cluster "taken" data of nodes x,y; node z is not one of them/);
    expect(await probe.hget('baton:{taken}:meta', 'nodes')).toBe('x,y');
    expect(await probe.exists('baton:{taken}:node:z')).toBe(0);
    probe.disconnect();
  });

  it('fences writes stamped with an epoch older than the cluster epoch', async () => {
    const { node, client } = await single('fenced');
    const s = await client.open('counter');
    await flushed(node);
    const probe = redisServer().client();
    const key = `baton:{fenced}:s:${s.sessionId}`;
    const stored = await probe.hget(key, 'v');
    // Another node took over with a higher epoch.
    await probe.set('baton:{fenced}:epoch', '99');
    await client.apply(s.sessionId, { type: 'add' });
    await expect
      .poll(async () => (await nodeStatus(node.controlAddress)).snapshot?.lastError, { timeout: 10_000 })
      .toMatch(/refused: Redis has seen epoch 99, newer than this node's/);
    expect(await probe.hget(key, 'v')).toBe(stored);
    probe.disconnect();
  });
});
