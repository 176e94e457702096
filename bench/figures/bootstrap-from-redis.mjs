// Figure 4: a node bootstrapping from the Redis snapshot, beside reading
// the very same keys raw. The snapshot is the one figure 6's daemon left
// in Redis. Each round restarts that node (same node id, same cluster) and
// takes the bootstrap time it reports in `baton status` (SCAN, pipelined
// HGETALL, check, install), and reads the keys with SCAN plus pipelined
// HGETALL and nothing else, chunked as Baton's loader does (1000 keys per
// pipeline, 4 pipelines in flight), in a fresh process: a bootstrap runs
// once per process, before its code is warm, and the baseline must not
// read with code that earlier rounds warmed. The order of the two
// alternates per round.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startBatonDaemon } from '../harness/baton-daemon.mjs';
import { redisArgs } from '../harness/baton-pair.mjs';
import { nodeStatus } from '../harness/node-status.mjs';
import { CHUNK, PARALLEL } from '../harness/raw-snapshot-read.mjs';
import { figureRow, measured } from '../report/figure-row.mjs';

const RAW_READ_PATH = new URL('../harness/raw-snapshot-read.mjs', import.meta.url).pathname;
const RAW_READ_TIMEOUT_MS = 120_000;
const BASELINE_NAME = `raw SCAN + pipelined HGETALL of the same keys (${CHUNK}/pipeline, ${PARALLEL} in flight), in a fresh process`;
const run = promisify(execFile);

/** The baseline, in a fresh process like the node's; resolves with { ms, records }. */
async function readRaw(port, cluster) {
  const { stdout } = await run(process.execPath, [RAW_READ_PATH, String(port), cluster], { timeout: RAW_READ_TIMEOUT_MS });
  return JSON.parse(stdout);
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
    `Baton's time is the bootstrapMs the node reports (SCAN, HGETALL, check, install packed); baseline: ${BASELINE_NAME}, no decoding`;
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
