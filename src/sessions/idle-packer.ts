import type { SessionEngine } from './session-engine.js';

/** Sessions visited per turn of the event loop during a pass. */
const PASS_SLICE = 2_000;
/** How often passes look for packed records to move when packing is off. */
const MOVE_ONLY_INTERVAL_MS = 5_000;

/**
 * Runs the engine's packIdle() passes: one every half of `idleMs`, each
 * spread over turns of the event loop, PASS_SLICE sessions a turn, so a
 * pass over many sessions never holds operations up for long. A session
 * left unchanged for `idleMs` is packed within one and a half `idleMs`.
 * With packing off (`idleMs` 0), sessions loaded packed from a snapshot are
 * still there: a pass every MOVE_ONLY_INTERVAL_MS, when the store has
 * chunks to empty, moves their records so the chunks' memory comes back.
 */
export class IdlePacker {
  private timer: NodeJS.Timeout | undefined;
  private passing = false;
  /** What passes give packIdle(): Infinity packs nothing (packing off). */
  private readonly packAfterMs: number;

  constructor(
    private readonly engine: SessionEngine,
    idleMs: number,
  ) {
    this.packAfterMs = idleMs === 0 ? Infinity : idleMs;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const every = this.packAfterMs === Infinity ? MOVE_ONLY_INTERVAL_MS : Math.max(100, Math.floor(this.packAfterMs / 2));
    this.timer = setInterval(() => void this.pass(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async pass(): Promise<void> {
    if (this.passing || (this.packAfterMs === Infinity && !this.engine.hasPackedToMove())) return;
    this.passing = true;
    try {
      while (this.timer !== undefined && !this.engine.packIdle(this.packAfterMs, PASS_SLICE)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.passing = false;
    }
  }
}
