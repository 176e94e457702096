// A private redis-server for one bench run: a free port on 127.0.0.1, no
// persistence, its working directory in the run's temp dir. Never the
// Redis on 6379.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { childExit } from './child-exit.mjs';
import { freePort } from './free-port.mjs';
import { LineReader } from './line-reader.mjs';

const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

async function startOnce(registry, tempDir) {
  const port = await freePort();
  const dir = join(tempDir, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LineReader(child.stdout);
  const err = new LineReader(child.stderr);
  registry.track('redis-server', child, () => [out.tail(), err.tail()].filter(Boolean).join('\n'));
  await out.waitFor((line) => (line.includes('Ready to accept connections') ? true : undefined), READY_TIMEOUT_MS, childExit(child), `redis-server on port ${port}`);
  return { port, pid: child.pid, child };
}

/** Starts redis-server; resolves with { port, pid, child } once it accepts connections. */
export async function startRedisServer(registry, tempDir) {
  let lastError;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(registry, tempDir);
    } catch (err) {
      lastError = err; // Most likely the port was taken between probe and bind.
    }
  }
  throw lastError;
}

/** Empties the run's Redis between figures, so that one figure's keys never slow another's SCAN. */
export async function flushRedis(port) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}
