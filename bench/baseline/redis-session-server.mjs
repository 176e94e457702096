// The baseline: what a user would build instead of Baton. A stateless gRPC
// server that keeps every session in Redis and runs each operation as a Lua
// read-modify-write through ioredis. It speaks Baton's own SessionService
// (Open, Apply, ApplyStream), so the very same SDK drives both systems and
// only the server side differs.
//
// Run by the harness: node redis-session-server.mjs <redis port>; it sends
// { type: "ready", address } over IPC once it listens on 127.0.0.1:<free port>.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Redis } from 'ioredis';
import { PROTO_DIR } from '../harness/paths.mjs';

const { BatchWriter, ITEM_OVERHEAD_BYTES } = await import(new URL('../../dist/rpc/batch-writer.js', import.meta.url).href);

const JSON_TYPE = 'application/json';
const SESSION_TYPE = 'counter';
const keyOf = (sessionId) => `{bench}:session:${sessionId}`;
const lua = (name) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');

/** Same loader options as the daemon (proto/loader-options.json). */
function loadSessionService() {
  const raw = JSON.parse(readFileSync(`${PROTO_DIR}loader-options.json`, 'utf8'));
  const constructors = { Number, String };
  const options = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, constructors[v] ?? v]));
  const definition = loadSync('baton/v1/session.proto', { ...options, includeDirs: [PROTO_DIR] });
  return loadPackageDefinition(definition).baton.v1.SessionService.service;
}

function errorDetail(err) {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('NOT_FOUND')) return { grpcCode: status.NOT_FOUND, code: 'ERR_SESSION_NOT_FOUND', message };
  if (message.startsWith('REJECTED')) return { grpcCode: status.FAILED_PRECONDITION, code: 'ERR_OPERATION_REJECTED', message };
  return { grpcCode: status.UNAVAILABLE, code: 'ERR_UNAVAILABLE', message };
}

const redisPort = Number(process.argv[2]);
if (!Number.isInteger(redisPort)) throw new Error('usage: redis-session-server.mjs <redis port>');

// Auto-pipelining gives the baseline its best shot: concurrent operations
// leave in one write per event-loop turn, as a tuned deployment would.
const redis = new Redis({ host: '127.0.0.1', port: redisPort, enableAutoPipelining: true, maxRetriesPerRequest: 1 });
redis.defineCommand('benchCounterOpenV1', { numberOfKeys: 1, lua: lua('counter-open.lua') });
redis.defineCommand('benchCounterApplyV1', { numberOfKeys: 1, lua: lua('counter-apply.lua') });

async function applyOne(req) {
  const [version, reply] = await redis.benchCounterApplyV1(keyOf(req.sessionId), req.op?.data ?? Buffer.alloc(0));
  return {
    correlationId: req.correlationId,
    version,
    reply: { data: Buffer.from(reply), contentType: JSON_TYPE },
    deduplicated: false,
  };
}

const handlers = {
  Open(call, callback) {
    const { sessionId, params } = call.request;
    const start = params?.data?.length ? JSON.parse(params.data.toString('utf8')).start ?? 0 : 0;
    const state = JSON.stringify({ value: start, fired: [] });
    const now = Date.now();
    redis.benchCounterOpenV1(keyOf(sessionId), state, SESSION_TYPE).then(
      (created) =>
        created === 1
          ? callback(null, {
              session: {
                sessionId, sessionType: SESSION_TYPE, version: 0, schemaVersion: 1,
                state: { data: Buffer.from(state), contentType: JSON_TYPE },
                owner: 'baseline', timers: [], createdAtMs: now, updatedAtMs: now,
              },
              deduplicated: false,
            })
          : callback({ code: status.ALREADY_EXISTS, details: `session ${sessionId} exists` }),
      (err) => callback({ code: status.UNAVAILABLE, details: err.message }),
    );
  },
  Apply(call, callback) {
    applyOne(call.request).then(
      (response) => callback(null, response),
      (err) => callback({ code: errorDetail(err).grpcCode, details: err.message }),
    );
  },
  ApplyStream(call) {
    let pending = 0;
    let ended = false;
    // The same framing as Baton's: answers ready together leave in one message.
    const answers = new BatchWriter((responses, written) => call.write({ responses }, written));
    const answer = (response) => {
      answers.add(response, ITEM_OVERHEAD_BYTES + (response.reply?.data?.length ?? 0));
      pending--;
      if (ended && pending === 0) {
        answers.flush();
        call.end();
      }
    };
    call.on('data', (batch) => {
      for (const req of batch.requests) {
        pending++;
        applyOne(req).then(answer, (err) => answer({ correlationId: req.correlationId, error: errorDetail(err) }));
      }
    });
    // Every request read so far gets its answer before the stream ends.
    call.on('end', () => {
      ended = true;
      if (pending === 0) call.end();
    });
    call.on('error', () => {});
  },
  Get(_call, callback) {
    callback({ code: status.UNIMPLEMENTED, details: 'not part of the baseline' });
  },
  CloseSession(_call, callback) {
    callback({ code: status.UNIMPLEMENTED, details: 'not part of the baseline' });
  },
  Watch(call) {
    call.emit('error', { code: status.UNIMPLEMENTED, details: 'not part of the baseline' });
  },
};

await redis.ping();
const server = new Server();
server.addService(loadSessionService(), handlers);
const port = await new Promise((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  server.forceShutdown();
  redis.disconnect();
  process.exit(0);
});
process.send({ type: 'ready', address: `127.0.0.1:${port}` });
