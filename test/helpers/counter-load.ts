import type { BatonClient } from '../../src/index.js';

/**
 * Client load on counter sessions that records what was acknowledged: each
 * session has `concurrency` operations in flight; every acknowledged "add"
 * reply (the new value, equal to the version) is kept per session.
 */
export class CounterLoad {
  readonly acked = new Map<string, number[]>();
  readonly failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly client: BatonClient,
    sessionIds: readonly string[],
    concurrency = 4,
    private readonly stopOnFailure = false,
  ) {
    this.loops = sessionIds.flatMap((id) => {
      this.acked.set(id, []);
      return Array.from({ length: concurrency }, () => this.loop(id));
    });
  }

  get ackedCount(): number {
    let n = 0;
    for (const list of this.acked.values()) n += list.length;
    return n;
  }

  /** Highest acknowledged value per session. */
  maxAcked(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, list] of this.acked) out.set(id, list.length === 0 ? 0 : Math.max(...list));
    return out;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(sessionId: string): Promise<void> {
    while (this.running) {
      try {
        const result = await this.client.apply<{ value: number }>(sessionId, { type: 'add' });
        this.acked.get(sessionId)?.push(result.reply.value);
      } catch (err) {
        this.failures.push(err instanceof Error ? err.message : String(err));
        if (this.stopOnFailure) return;
      }
    }
  }
}
