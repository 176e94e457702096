import type { IntervalHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopDelay } from '../../src/observability/loop-delay.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (n: number): number => n * 1e6;

/** Holds the loop for `forMs`, as a long synchronous task would, between two short sleeps. */
async function stall(forMs: number, settleMs: number): Promise<void> {
  await sleep(settleMs);
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    // Busy: nothing else runs.
  }
  await sleep(settleMs);
}

/** A histogram that holds the given intervals between samples, in ms, as Node's records them. */
function recorded(intervalsMs: number[]): IntervalHistogram {
  const sorted = [...intervalsMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    max: ms(sorted[sorted.length - 1] ?? 0),
    percentile: (p: number) => ms(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0),
    enable: () => true,
    disable: () => true,
    reset: () => {},
  } as unknown as IntervalHistogram;
}

let monitor: LoopDelay | undefined;
afterEach(() => monitor?.stop());

describe('LoopDelay', () => {
  it('reports the delay alone, without the 10 ms between samples', () => {
    // An idle loop: samples land every 10 ms, give or take.
    monitor = new LoopDelay(recorded([...Array.from({ length: 99 }, () => 10.1), 9.4]));
    expect(monitor.figures().p99Ms).toBeCloseTo(0.1, 5);
    // A sample came early: no negative delay.
    monitor = new LoopDelay(recorded([9.4]));
    expect(monitor.figures()).toEqual({ p99Ms: 0, maxMs: 0 });
    // One sample waited 35 ms behind a long task: 25 ms late.
    monitor = new LoopDelay(recorded([...Array.from({ length: 99 }, () => 10), 35]));
    expect(monitor.figures().maxMs).toBeCloseTo(25, 5);
  });

  it('forgets what it measured when restarted, as a node does once ready', async () => {
    monitor = new LoopDelay();
    await stall(200, 20); // startup work
    expect(monitor.figures().maxMs).toBeGreaterThanOrEqual(180);
    monitor.restart();
    await sleep(50);
    expect(monitor.figures().maxMs).toBeLessThan(150);
  });

  it('reports a stall of the real loop as its max', async () => {
    monitor = new LoopDelay();
    await stall(80, 50);
    const { maxMs } = monitor.figures();
    expect(maxMs).toBeGreaterThanOrEqual(60);
    expect(maxMs).toBeLessThan(500);
  });
});
