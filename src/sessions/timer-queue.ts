/**
 * Schedules session timers on one Node timer armed for the earliest deadline.
 * A min-heap with lazy deletion: cancelled or replaced entries stay in the
 * heap until they surface (or until a compaction), and the live map decides
 * whether a surfacing entry still counts.
 */

export interface DueTimer {
  readonly sessionId: string;
  readonly timerId: string;
  readonly deadlineMs: number;
}

/** setTimeout takes at most a signed 32-bit delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const key = (sessionId: string, timerId: string): string => `${sessionId}\u0000${timerId}`;

export class TimerQueue {
  private readonly heap: DueTimer[] = [];
  private readonly live = new Map<string, number>();
  private armedFor = Infinity;
  private handle: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly onDue: (timer: DueTimer) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of live (scheduled, not cancelled) timers. */
  get size(): number {
    return this.live.size;
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = Infinity;
  }

  schedule(sessionId: string, timerId: string, deadlineMs: number): void {
    this.live.set(key(sessionId, timerId), deadlineMs);
    this.push({ sessionId, timerId, deadlineMs });
    if (this.heap.length > 2 * this.live.size + 64) this.compact();
    if (deadlineMs < this.armedFor) this.arm();
  }

  cancel(sessionId: string, timerId: string): void {
    this.live.delete(key(sessionId, timerId));
  }

  private arm(): void {
    if (!this.running) return;
    const first = this.peekLive();
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = Infinity;
    if (first === undefined) return;
    this.armedFor = first.deadlineMs;
    const delay = Math.min(Math.max(0, first.deadlineMs - this.now()), MAX_DELAY_MS);
    this.handle = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    for (;;) {
      const first = this.peekLive();
      if (first === undefined || first.deadlineMs > now || !this.running) break;
      this.pop();
      this.live.delete(key(first.sessionId, first.timerId));
      this.onDue(first);
    }
    this.arm();
  }

  /** Drops stale entries from the top and returns the earliest live one. */
  private peekLive(): DueTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return undefined;
      if (this.live.get(key(top.sessionId, top.timerId)) === top.deadlineMs) return top;
      this.pop();
    }
  }

  private compact(): void {
    const entries = this.heap.filter((t) => this.live.get(key(t.sessionId, t.timerId)) === t.deadlineMs);
    const seen = new Set<string>();
    this.heap.length = 0;
    for (const t of entries) {
      const k = key(t.sessionId, t.timerId);
      if (seen.has(k)) continue;
      seen.add(k);
      this.push(t);
    }
  }

  private push(timer: DueTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as DueTimer;
      if (p.deadlineMs <= timer.deadlineMs) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const l = heap[left] as DueTimer;
      const r = heap[right];
      const child = r !== undefined && r.deadlineMs < l.deadlineMs ? right : left;
      const c = heap[child] as DueTimer;
      if (c.deadlineMs >= last.deadlineMs) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
