// `node raw-snapshot-read.mjs PORT CLUSTER`: figure 4's baseline, in a
// process of its own as fresh as the node it is compared with. Reads every
// session key of CLUSTER with SCAN plus pipelined HGETALL and nothing
// else, chunked as Baton's loader does, and prints { ms, records } as JSON.
// The clock starts once connected, as the node's bootstrap clock does.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

export const CHUNK = 1_000;
export const PARALLEL = 4;
const SCAN_COUNT = 2_000;

async function readRaw(port, cluster) {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const started = performance.now();
    const keys = [];
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', `baton:{${cluster}}:s:*`, 'COUNT', SCAN_COUNT);
      cursor = next;
      keys.push(...page);
    } while (cursor !== '0');
    let next = 0;
    let records = 0;
    const lane = async () => {
      while (next < keys.length) {
        const chunk = keys.slice(next, next + CHUNK);
        next += CHUNK;
        const pipeline = redis.pipeline();
        for (const key of chunk) pipeline.hgetallBuffer(key);
        for (const [err, fields] of await pipeline.exec()) {
          if (err !== null) throw err;
          if (fields.r !== undefined) records++;
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    return { ms: performance.now() - started, records };
  } finally {
    redis.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [port, cluster] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(await readRaw(Number(port), cluster))}\n`);
}
