import type { SessionEngine } from './session-engine.js';

/** Sessions visited per turn of the event loop during a pass. */
const PASS_SLICE = 2_000;

/**
 * Runs the engine's packIdle() passes: one every half of `idleMs`, each
 * spread over turns of the event loop, PASS_SLICE sessions a turn, so a
 * pass over many sessions never holds operations up for long. A session
 * left unchanged for `idleMs` is packed within one and a half `idleMs`.
 */
export class IdlePacker {
  private timer: NodeJS.Timeout | undefined;
  private passing = false;

  constructor(
    private readonly engine: SessionEngine,
    private readonly idleMs: number,
  ) {}

  start(): void {
    if (this.idleMs === 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.pass(), Math.max(100, Math.floor(this.idleMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async pass(): Promise<void> {
    if (this.passing) return;
    this.passing = true;
    try {
      while (this.timer !== undefined && !this.engine.packIdle(this.idleMs, PASS_SLICE)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.passing = false;
    }
  }
}
