// Closed loop: a fixed number of operations always in flight, each "user"
// sending its next operation when the last one is answered. Measures peak
// throughput at that concurrency.
import { performance } from 'node:perf_hooks';
import { cpuPercentSince } from './cpu-usage.mjs';
import { LatencyRecorder } from './latency-recorder.mjs';

/** `send(i)` applies the i-th operation; resolves with the round's summary. */
export async function closedLoop(send, { concurrency, durationMs }) {
  const latencies = new LatencyRecorder();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  let next = 0;
  let errors = 0;
  let firstError;
  const user = async () => {
    while (performance.now() < end) {
      const sentAt = performance.now();
      try {
        await send(next++);
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
    loadCpuPercent: cpuPercentSince(cpuBefore, elapsedMs),
  };
}
