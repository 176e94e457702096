// Figure 4: a node bootstrapping from the Redis snapshot, beside reading
// the very same keys raw. The snapshot is the one figure 6's daemon left
// in Redis. Each round restarts that node (same node id, same cluster) and
// takes the bootstrap time it reports in `baton status` (SCAN, pipelined
// HGETALL, decode, install), and reads the keys with SCAN plus pipelined
// HGETALL and nothing else, chunked as Baton's loader does (1000 keys per
// pipeline, 4 pipelines in flight), from a fresh connection. The order of
// the two alternates per round.
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startBatonDaemon } from '../harness/baton-daemon.mjs';
import { redisArgs } from '../harness/baton-pair.mjs';
import { nodeStatus } from '../harness/node-status.mjs';
import { figureRow, measured } from '../report/figure-row.mjs';

const CHUNK = 1_000;
const PARALLEL = 4;
const SCAN_COUNT = 2_000;
const BASELINE_NAME = `raw SCAN + pipelined HGETALL of the same keys (${CHUNK}/pipeline, ${PARALLEL} in flight)`;

/** SCAN then pipelined HGETALL of every session key of `cluster`; resolves with { ms, records }. */
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

/** Restarts the snapshot's node; resolves with what it reports about its bootstrap. */
async function restartNode(registry, redisPort, snapshot, settings) {
  const spawnedAt = performance.now();
  const node = await startBatonDaemon(registry, {
    nodeId: snapshot.nodeId,
    extraArgs: [...redisArgs(redisPort, snapshot.cluster), '--max-sessions', String(settings.memorySessions * 2 + 10_000)],
  });
  const readyMs = performance.now() - spawnedAt;
  try {
    const { snapshot: report } = await nodeStatus(node.controlAddress);
    return { ms: report.bootstrapMs, records: report.bootstrapLoaded, corrupt: report.corruptRecords, readyMs };
  } finally {
    await registry.stop(node.child);
  }
}

/** Measures both sides over the snapshot figure 6 left; returns the raw rounds. */
export async function runBootstrapBenchmark({ registry, redis, snapshot, settings, progress }) {
  const baton = [];
  const raw = [];
  for (let round = 0; round < settings.rounds; round++) {
    const sides = [
      async () => baton.push(await restartNode(registry, redis.port, snapshot, settings)),
      async () => raw.push(await readRaw(redis.port, snapshot.cluster)),
    ];
    for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
    const b = baton.at(-1);
    const r = raw.at(-1);
    if (b.records !== snapshot.sessions || r.records !== snapshot.sessions || b.corrupt > 0) {
      throw new Error(`bootstrap round ${round + 1}: the node loaded ${b.records} (${b.corrupt} corrupt) and the raw read found ${r.records} of ${snapshot.sessions} sessions`);
    }
    progress(`bootstrap round ${round + 1}/${settings.rounds}: node ${b.ms} ms (ready ${Math.round(b.readyMs)} ms after spawn), raw read ${Math.round(r.ms)} ms, ${snapshot.sessions} sessions`);
  }
  return { snapshot, baton, raw };
}

export function bootstrapRows({ snapshot, baton, raw }) {
  const common = { figure: '4', baselineName: BASELINE_NAME, paired: true };
  const note =
    `the snapshot figure 6 left: ${snapshot.sessions} sessions, ${snapshot.stateBytes} B state, ${snapshot.hotSessions} of them with a full dedupe window; ` +
    `Baton's time is the bootstrapMs the node reports (SCAN, HGETALL, decode, install); baseline: ${BASELINE_NAME}, no decoding`;
  return [
    figureRow({
      ...common, id: 'bootstrap.time', name: `Bootstrap ${snapshot.sessions} sessions from Redis`, unit: 'ms', better: 'lower',
      baton: measured(baton.map((b) => b.ms), { readyMs: baton.map((b) => Math.round(b.readyMs)) }),
      baseline: measured(raw.map((r) => r.ms)),
      note,
    }),
    figureRow({
      ...common, id: 'bootstrap.rate', name: 'Bootstrap rate from Redis', unit: 'sessions/s', better: 'higher',
      baton: measured(baton.map((b) => snapshot.sessions / (b.ms / 1000))),
      baseline: measured(raw.map((r) => snapshot.sessions / (r.ms / 1000))),
    }),
  ];
}
