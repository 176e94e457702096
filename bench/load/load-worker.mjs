// The load generator: a child process of its own (so it never shares a
// server's event loop) driving one system through the Baton SDK's default
// streaming path, BatonClient.apply. The harness tells it what to run over
// IPC; it answers with summaries, never with raw samples.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serveRequests } from '../harness/ipc-responder.mjs';
import { SDK_PATH } from '../harness/paths.mjs';
import { closedLoop } from './closed-loop.mjs';
import { openLoop } from './open-loop.mjs';

const { BatonClient } = await import(pathToFileURL(SDK_PATH).href);

/** Every call settles within the SDK deadline, so every loop ends. */
const CALL_DEADLINE_MS = 10_000;

let client;

const sessionId = (prefix, i) => `${prefix}${i}`;

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; counts failures. */
async function forEach(count, concurrency, task) {
  let next = 0;
  let errors = 0;
  let firstError;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        errors++;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { errors, firstError };
}

/** Applies `op` to the sessions `${prefix}0..count-1` in turn. */
const applyInTurn = (prefix, count, op) => (i) => client.apply(sessionId(prefix, i % count), op);

/**
 * `loop(send, options)`, after `warmupMs` of the same loop that is not
 * measured: a round measures the steady state, not the system's start
 * after sitting idle while the others were measured (docs/benchmarks.md,
 * "Each round starts warm").
 */
async function afterWarmup(loop, send, { warmupMs = 0, ...options }) {
  if (warmupMs > 0) await loop(send, { ...options, durationMs: warmupMs });
  return loop(send, options);
}

/** Runs `fn(i)` for i in 0..count-1, `concurrency` at a time; resolves with the outcome and the time it took. */
async function timedEach(count, concurrency, fn) {
  const start = performance.now();
  const outcome = await forEach(count, concurrency, fn);
  return { ...outcome, elapsedMs: performance.now() - start };
}

serveRequests({
  /** `addresses`: every node of the system, the one that owns new sessions first. */
  async connect({ addresses }) {
    client = new BatonClient({ nodes: addresses, deadlineMs: CALL_DEADLINE_MS });
    return { clientId: client.options.clientId };
  },
  open: ({ prefix, count, concurrency, params }) => timedEach(count, concurrency, (i) => client.open('counter', { sessionId: sessionId(prefix, i), params })),
  applyEach: ({ prefix, count, concurrency, op }) => timedEach(count, concurrency, (i) => client.apply(sessionId(prefix, i), op)),
  closeEach: ({ prefix, count, concurrency }) => timedEach(count, concurrency, (i) => client.close(sessionId(prefix, i))),
  /** Size of a session's state as the node holds it (JSON-encoded). */
  async stateBytes({ sessionId: id }) {
    const snapshot = await client.get(id);
    return Buffer.byteLength(JSON.stringify(snapshot.state));
  },
  closedLoop: ({ prefix, count, op, ...options }) => afterWarmup(closedLoop, applyInTurn(prefix, count, op), options),
  openLoop: ({ prefix, count, op, ...options }) => afterWarmup(openLoop, applyInTurn(prefix, count, op), options),
  async shutdown() {
    client?.shutdown();
    client = undefined;
    return {};
  },
});
