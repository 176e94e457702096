import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connectRedis, waitReady } from '../../src/snapshots/redis-connection.js';
import { DEFAULT_MASTER_NAME } from '../../src/snapshots/redis-options.js';
import { freePort } from './free-port.js';

/**
 * A private redis-server on a free 127.0.0.1 port, keeping nothing on disk,
 * that a test can kill and start again (empty) on the same port.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'baton-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `extraArgs`: more redis-server flags, e.g. ['--requirepass', 'secret']. */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port, with no data. */
  async restart(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...this.auth() });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Kills the server (SIGKILL): everything it held is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  private auth(): { password?: string } {
    const at = this.extraArgs.indexOf('--requirepass');
    return at < 0 ? {} : { password: this.extraArgs[at + 1] as string };
  }

  /** The connection a node's snapshots use (connectRedis, scripts defined), once it is ready. */
  async snapshotConnection(): Promise<Redis> {
    const redis = connectRedis({
      url: this.url, sentinels: [], masterName: DEFAULT_MASTER_NAME, password: this.auth().password, sentinelPassword: undefined, tls: false, tlsCaFile: undefined,
    });
    if (!(await waitReady(redis, 5_000))) {
      redis.disconnect();
      throw new Error(`could not connect to redis-server on port ${this.port}`);
    }
    return redis;
  }

  /** A client for the test's own reads and writes. */
  client(): Redis {
    const redis = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1, ...this.auth() });
    redis.on('error', () => {});
    return redis;
  }
}
