import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';

/** The window the figures cover; the histogram restarts after each. */
const WINDOW_MS = 10_000;

/**
 * Event loop delay of this process: p99 and max over the last complete
 * window (or the current one before the first completes), in ms.
 */
export class LoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = { p99Ms: 0, maxMs: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.last = this.read();
      this.histogram.reset();
    }, WINDOW_MS);
    this.timer.unref();
  }

  figures(): { p99Ms: number; maxMs: number } {
    const current = this.read();
    return current.maxMs > this.last.maxMs ? current : this.last;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private read(): { p99Ms: number; maxMs: number } {
    if (this.histogram.count === 0) return { p99Ms: 0, maxMs: 0 };
    return { p99Ms: this.histogram.percentile(99) / 1e6, maxMs: this.histogram.max / 1e6 };
  }
}
