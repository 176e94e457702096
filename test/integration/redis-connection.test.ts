import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { nodeStatus } from '../helpers/pair.js';
import { RedisServer } from '../helpers/redis-server.js';

const servers: RedisServer[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await killAllDaemons();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.kill()));
});

/** Opens a session on `node` and waits until Redis holds it. */
async function snapshotLands(node: DaemonProcess, redis: RedisServer, cluster: string): Promise<void> {
  const client = new BatonClient({ nodes: [node.sessionAddress] });
  try {
    const s = await client.open('counter');
    const probe = redis.client();
    await expect.poll(() => probe.exists(`baton:{${cluster}}:s:${s.sessionId}`), { timeout: 10_000 }).toBe(1);
    probe.disconnect();
    expect((await nodeStatus(node.controlAddress)).snapshot?.redisConnected).toBe(true);
  } finally {
    client.shutdown();
  }
}

describe('connecting to Redis', () => {
  it('authenticates with a password from the environment or in the URL', async () => {
    const redis = await RedisServer.start(['--requirepass', 's3cret']);
    servers.push(redis);
    const byEnv = await DaemonProcess.start({
      nodeId: 'env',
      args: ['--redis', redis.url, '--cluster', 'auth1', '--snapshot-interval-ms', '100'],
      env: { BATON_REDIS_PASSWORD: 's3cret' },
    });
    await snapshotLands(byEnv, redis, 'auth1');
    // The password never appears in logs.
    expect(JSON.stringify(byEnv.logs)).not.toContain('s3cret');
    const byUrl = await DaemonProcess.start({
      nodeId: 'url',
      args: ['--redis', `redis://:s3cret@127.0.0.1:${redis.port}`, '--cluster', 'auth2', '--snapshot-interval-ms', '100'],
    });
    await snapshotLands(byUrl, redis, 'auth2');
    expect(JSON.stringify(byUrl.logs)).not.toContain('s3cret');
  });

  it('finds the master through Sentinel', async () => {
    const master = await RedisServer.start();
    servers.push(master);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'baton-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\nsentinel monitor themaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds themaster 5000\n`);
    const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    children.push(sentinel);
    const node = await DaemonProcess.start({
      nodeId: 'via-sentinel',
      args: ['--redis-sentinels', `127.0.0.1:${port}`, '--redis-master-name', 'themaster', '--cluster', 'sent', '--snapshot-interval-ms', '100'],
    });
    await snapshotLands(node, master, 'sent');
  });
});
