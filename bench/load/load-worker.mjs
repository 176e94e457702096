// The load generator: a child process of its own (so it never shares the
// server's event loop) driving one server through the Baton SDK's default
// streaming path, BatonClient.apply. The harness tells it what to run over
// IPC; it answers with summaries, never with raw samples.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serveRequests } from '../harness/ipc-responder.mjs';
import { SDK_PATH } from '../harness/paths.mjs';
import { LatencyRecorder } from './latency-recorder.mjs';

const { BatonClient } = await import(pathToFileURL(SDK_PATH).href);

/** Every apply settles within the SDK deadline, so every loop below ends. */
const CALL_DEADLINE_MS = 10_000;

let client;

const sessionId = (prefix, i) => `${prefix}${i}`;

function cpuPercent(before, elapsedMs) {
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / elapsedMs) * 100;
}

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

/** Fixed number of operations in flight, each user sending its next one when the last is answered. */
async function closedLoop({ prefix, count, concurrency, durationMs, op }) {
  const latencies = new LatencyRecorder();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  let next = 0;
  let errors = 0;
  let firstError;
  const user = async () => {
    while (performance.now() < end) {
      const id = sessionId(prefix, next++ % count);
      const sentAt = performance.now();
      try {
        await client.apply(id, op);
        latencies.record(performance.now() - sentAt);
      } catch (err) {
        errors++;
        firstError ??= err.message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, user));
  const elapsedMs = performance.now() - start;
  return {
    completed: latencies.count,
    errors,
    firstError,
    elapsedMs,
    opsPerSec: latencies.count / (elapsedMs / 1000),
    latency: latencies.summary(),
    loadCpuPercent: cpuPercent(cpuBefore, elapsedMs),
  };
}

/**
 * Operations sent on a fixed schedule whatever the answers do (open loop).
 * Latency counts from the scheduled send time, so a stall is charged to
 * every operation it delayed (no coordinated omission). The schedule is
 * kept in 1 ms steps: a timer per operation would cost more than the work.
 */
async function openLoop({ prefix, count, rate, durationMs, maxInFlight, op }) {
  const latencies = new LatencyRecorder();
  const cpuBefore = process.cpuUsage();
  const intervalMs = 1000 / rate;
  const total = Math.max(1, Math.floor((rate * durationMs) / 1000));
  let sent = 0;
  let inFlight = 0;
  let dropped = 0;
  let errors = 0;
  let firstError;
  const start = performance.now();
  await new Promise((resolve) => {
    const maybeDone = () => {
      if (sent >= total && inFlight === 0) resolve();
    };
    const send = (i, intendedAt) => {
      inFlight++;
      client.apply(sessionId(prefix, i % count), op).then(
        () => {
          latencies.record(performance.now() - intendedAt);
          inFlight--;
          maybeDone();
        },
        (err) => {
          errors++;
          firstError ??= err.message;
          inFlight--;
          maybeDone();
        },
      );
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        const intendedAt = start + sent * intervalMs;
        if (inFlight >= maxInFlight) dropped++;
        else send(sent, intendedAt);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else maybeDone();
    };
    tick();
  });
  const elapsedMs = performance.now() - start;
  return {
    targetRate: rate,
    scheduled: total,
    completed: latencies.count,
    dropped,
    errors,
    firstError,
    elapsedMs,
    achievedRate: latencies.count / (elapsedMs / 1000),
    latency: latencies.summary(),
    loadCpuPercent: cpuPercent(cpuBefore, elapsedMs),
  };
}

serveRequests({
  async connect({ address }) {
    client = new BatonClient({ nodes: [address], deadlineMs: CALL_DEADLINE_MS });
    return { clientId: client.options.clientId };
  },
  async open({ prefix, count, concurrency, params }) {
    const start = performance.now();
    const outcome = await forEach(count, concurrency, (i) => client.open('counter', { sessionId: sessionId(prefix, i), params }));
    return { ...outcome, elapsedMs: performance.now() - start };
  },
  async applyEach({ prefix, count, concurrency, op }) {
    const start = performance.now();
    const outcome = await forEach(count, concurrency, (i) => client.apply(sessionId(prefix, i), op));
    return { ...outcome, elapsedMs: performance.now() - start };
  },
  closedLoop,
  openLoop,
  async shutdown() {
    client?.shutdown();
    client = undefined;
    return {};
  },
});
