import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';

/** The window the figures cover; the histogram restarts after each. */
const WINDOW_MS = 10_000;
/**
 * How often the loop is sampled, in ms. Node records the whole time between
 * two samples, this interval included, so an idle loop reads about 10 ms:
 * the figures subtract it to report the delay alone.
 */
const RESOLUTION_MS = 10;

/**
 * Event loop delay of this process: p99 and max over the last complete
 * window (or the current one before the first completes), in ms.
 */
export class LoopDelay {
  private last = { p99Ms: 0, maxMs: 0 };
  private timer: NodeJS.Timeout;

  /** `histogram` samples every RESOLUTION_MS, as Node's loop delay monitor does. */
  constructor(private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })) {
    this.histogram.enable();
    this.timer = this.startWindows();
  }

  /**
   * Forgets everything measured so far and starts a fresh window: when a
   * node is ready, so that its figures are about serving, not about loading
   * code and the snapshot (which the startup logs time on their own).
   */
  restart(): void {
    clearInterval(this.timer);
    this.histogram.reset();
    this.last = { p99Ms: 0, maxMs: 0 };
    this.timer = this.startWindows();
  }

  figures(): { p99Ms: number; maxMs: number } {
    const current = this.read();
    return current.maxMs > this.last.maxMs ? current : this.last;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private startWindows(): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.last = this.read();
      this.histogram.reset();
    }, WINDOW_MS);
    timer.unref();
    return timer;
  }

  private read(): { p99Ms: number; maxMs: number } {
    if (this.histogram.count === 0) return { p99Ms: 0, maxMs: 0 };
    const delay = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return { p99Ms: delay(this.histogram.percentile(99)), maxMs: delay(this.histogram.max) };
  }
}
