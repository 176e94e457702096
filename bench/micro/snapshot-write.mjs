// Cost of writing snapshot records to Redis (what a snapshot flush does for
// every changed session once it is encoded), beside the other layout tried
// on 2026-12-05 and not kept, measured in the same run: Baton sends three
// arguments per record (op, version, record) to write-records.lua; the
// other sends one header ("<version>:<length>,...") and one buffer of all
// the records, which its script cuts apart (string.sub; sets only, as
// in a flush of live sessions). Both go through ioredis to a private redis-server, shaped as a flush: 1000 records
// (200-byte state, a full dedupe window of 32 SDK-shaped operation ids) in
// batches of 32, up to 4 batches in flight, a turn of the event loop after
// each batch. Reports CPU microseconds per record of this process (the
// writer: building and sending the commands, reading the replies) and of
// redis-server (running the script), rounds alternating; read the rounds
// after the first two, once both are warm (docs/snapshots.md, "Writing").
// Run after `npm run build`:
//   node bench/micro/snapshot-write.mjs [flushes per round=30] [rounds=6]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomClientId } from '../../dist/client/client-options.js';
import { encodeRecord } from '../../dist/replication/record-codec.js';
import { connectRedis, waitReady } from '../../dist/snapshots/redis-connection.js';
import { SnapshotStore } from '../../dist/snapshots/snapshot-store.js';
import { ProcessRegistry } from '../harness/process-registry.mjs';
import { readCpuMs } from '../harness/process-stats.mjs';
import { startRedisServer } from '../harness/redis-server.mjs';

const flushes = Number(process.argv[2] ?? 30);
const rounds = Number(process.argv[3] ?? 6);
const RECORDS = 1000;
const BATCH = 32;
const IN_FLIGHT = 4;
const OWNER = 'micro-a';
const EPOCH = 1;

/** The layout tried: one header and one buffer per batch, cut apart by the script. */
const ONE_BUFFER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {2, 0} end
local epoch = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
if stored > epoch then return {1, stored} end
local versions, lengths = {}, {}
local total = 0
for entry in string.gmatch(ARGV[3], '[^,]+') do
  local version, length = string.match(entry, '^(%d+):(%d+)$')
  if version == nil then return {6, 'bad header entry ' .. entry} end
  versions[#versions + 1], lengths[#lengths + 1] = version, tonumber(length)
  total = total + tonumber(length)
end
if #versions ~= #KEYS - 2 or total ~= #ARGV[4] then return {6, 'header does not match'} end
if stored < epoch then redis.call('SET', KEYS[2], ARGV[1]) end
local written, at = 0, 1
for i = 3, #KEYS do
  local length = lengths[i - 2]
  local current = tonumber(redis.call('HGET', KEYS[i], 'e') or '0')
  if current <= epoch then
    redis.call('HSET', KEYS[i], 'v', versions[i - 2], 'e', ARGV[1], 'o', ARGV[2], 'r', string.sub(ARGV[4], at, at + length - 1))
    written = written + 1
  end
  at = at + length
end
return {0, written}`;

const client = randomClientId();
const now = Date.now();
const writes = Array.from({ length: RECORDS }, (_, n) => {
  const record = {
    sessionId: `micro-session-${n}`, sessionType: 'counter', version: 40, schemaVersion: 1, owner: OWNER, epoch: EPOCH,
    state: `{"value":40,"fired":[],"pad":"${'x'.repeat(170)}"}`, timers: [],
    dedupe: Array.from({ length: 32 }, (_, i) => ({ opId: `${client}:${1000 + i}`, version: 9 + i, reply: `{"value":${9 + i}}` })),
    createdAtMs: now, updatedAtMs: now,
  };
  return { sessionId: record.sessionId, version: record.version, payload: encodeRecord(record) };
});
const recordBytes = writes[0].payload.length;

const registry = new ProcessRegistry((message) => process.stderr.write(`${message}\n`));
const tempDir = mkdtempSync(join(tmpdir(), 'baton-micro-'));
let redis;
try {
  const server = await startRedisServer(registry, tempDir);
  redis = connectRedis({ url: `redis://127.0.0.1:${server.port}`, sentinels: [], masterName: 'mymaster', password: undefined, sentinelPassword: undefined, tls: false, tlsCaFile: undefined });
  if (!(await waitReady(redis, 5_000))) throw new Error('could not connect to the private redis-server');
  redis.defineCommand('microWriteOneBuffer', { lua: ONE_BUFFER_LUA });
  const store = new SnapshotStore(redis, 'micro', { error() {}, warn() {}, info() {} });
  await store.register(OWNER);

  const oneBuffer = (slice) => {
    const args = [slice.length + 2, store.keys.node(OWNER), store.keys.epoch, ...slice.map((w) => store.keys.session(w.sessionId)), EPOCH, OWNER];
    args.push(slice.map((w) => `${w.version}:${w.payload.length}`).join(','), Buffer.concat(slice.map((w) => w.payload)));
    return redis.microWriteOneBuffer(...args).then(([code, written]) => {
      if (code !== 0) throw new Error(`the one-buffer script answered code ${code} (${written})`);
      return written;
    });
  };
  const sides = {
    'three arguments per record (Baton)': (slice) => store.write(EPOCH, OWNER, slice),
    'header + one buffer (tried)': oneBuffer,
  };

  /** One flush's worth of writes; resolves with how many records were written. */
  const flush = async (write) => {
    const inFlight = [];
    let written = 0;
    for (let i = 0; i < writes.length; i += BATCH) {
      inFlight.push(write(writes.slice(i, i + BATCH)));
      if (inFlight.length >= IN_FLIGHT) written += await inFlight.shift();
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const pending of inFlight) written += await pending;
    return written;
  };

  for (const write of Object.values(sides)) await flush(write); // warm-up
  console.log(`${RECORDS} records of ${recordBytes} B per flush, ${flushes} flushes per round; CPU us per record, writer (this process) and redis-server`);
  for (let round = 1; round <= rounds; round++) {
    const results = [];
    const order = Object.entries(sides);
    for (const [name, write] of round % 2 === 0 ? order.reverse() : order) {
      const cpu = process.cpuUsage();
      const redisMs = readCpuMs(server.pid);
      let written = 0;
      for (let f = 0; f < flushes; f++) written += await flush(write);
      if (written !== flushes * RECORDS) throw new Error(`${name}: wrote ${written} of ${flushes * RECORDS} records`);
      const used = process.cpuUsage(cpu);
      results.push({ name, writer: (used.user + used.system) / written, redis: ((readCpuMs(server.pid) - redisMs) * 1000) / written });
    }
    const baton = results.find((r) => r.name.endsWith('(Baton)'));
    const tried = results.find((r) => r.name.endsWith('(tried)'));
    const text = (r) => `${r.name}: writer ${r.writer.toFixed(1)} us, redis ${r.redis.toFixed(1)} us`;
    const ratio = (a, b) => (a / b).toFixed(2);
    console.log(`round ${round}: ${text(baton)}; ${text(tried)}; tried/Baton: writer ${ratio(tried.writer, baton.writer)}x, redis ${ratio(tried.redis, baton.redis)}x, both ${ratio(tried.writer + tried.redis, baton.writer + baton.redis)}x`);
  }
} finally {
  redis?.disconnect();
  await registry.stopAll();
  rmSync(tempDir, { recursive: true, force: true });
}
