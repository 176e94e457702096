// Open loop: operations leave on a fixed schedule whatever the answers do.
// Latency counts from the scheduled send time, so a stall is charged to
// every operation it delayed (no coordinated omission). The schedule is
// kept in 1 ms steps: a timer per operation would cost more than the work.
import { performance } from 'node:perf_hooks';
import { cpuPercentSince } from './cpu-usage.mjs';
import { LatencyRecorder } from './latency-recorder.mjs';

/**
 * `send(i)` applies the i-th operation. More than `maxInFlight` unanswered
 * operations and the next one is dropped (counted, not sent). Resolves once
 * every sent operation settled (the SDK's deadline bounds that).
 */
export async function openLoop(send, { rate, durationMs, maxInFlight }) {
  const latencies = new LatencyRecorder();
  const sendLag = new LatencyRecorder();
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
    const settle = () => {
      inFlight--;
      maybeDone();
    };
    const fire = (i, intendedAt) => {
      sendLag.record(performance.now() - intendedAt);
      inFlight++;
      send(i).then(
        () => {
          latencies.record(performance.now() - intendedAt);
          settle();
        },
        (err) => {
          errors++;
          firstError ??= err.message;
          settle();
        },
      );
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        if (inFlight >= maxInFlight) dropped++;
        else fire(sent, start + sent * intervalMs);
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
    /** How late the generator itself sent, included in `latency`: its own share of the error. */
    sendLag: sendLag.summary(),
    loadCpuPercent: cpuPercentSince(cpuBefore, elapsedMs),
  };
}
