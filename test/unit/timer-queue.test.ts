import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerQueue } from '../../src/sessions/timer-queue.js';
import type { DueTimer } from '../../src/sessions/timer-queue.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function queue(): { q: TimerQueue; fired: DueTimer[] } {
  const fired: DueTimer[] = [];
  const q = new TimerQueue((t) => fired.push(t));
  q.start();
  return { q, fired };
}

describe('TimerQueue', () => {
  it('fires timers in deadline order, each once, not before its deadline', () => {
    const { q, fired } = queue();
    q.schedule('s1', 'a', 1_000_300);
    q.schedule('s2', 'b', 1_000_100);
    q.schedule('s3', 'c', 1_000_200);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired.map((t) => t.timerId)).toEqual(['b']);
    vi.advanceTimersByTime(1_000);
    expect(fired.map((t) => t.timerId)).toEqual(['b', 'c', 'a']);
    expect(q.size).toBe(0);
  });

  it('never fires a cancelled timer, and fires a replaced one at its new deadline only', () => {
    const { q, fired } = queue();
    q.schedule('s', 'gone', 1_000_050);
    q.schedule('s', 'moved', 1_000_060);
    q.cancel('s', 'gone');
    q.schedule('s', 'moved', 1_000_500);
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([{ sessionId: 's', timerId: 'moved', deadlineMs: 1_000_500 }]);
  });

  it('fires a deadline in the past at once', () => {
    const { q, fired } = queue();
    q.schedule('s', 'late', 999_000);
    vi.advanceTimersByTime(0);
    expect(fired.map((t) => t.timerId)).toEqual(['late']);
  });

  it('stays correct through compaction of many replaced timers', () => {
    const { q, fired } = queue();
    for (let i = 0; i < 1_000; i++) q.schedule('s', 't', 1_000_000 + 10_000 - i);
    expect(q.size).toBe(1);
    vi.advanceTimersByTime(20_000);
    expect(fired).toEqual([{ sessionId: 's', timerId: 't', deadlineMs: 1_000_000 + 10_000 - 999 }]);
  });

  it('handles deadlines beyond the 32-bit setTimeout range', () => {
    const { q, fired } = queue();
    q.schedule('s', 'far', 1_000_000 + 2 ** 31 + 5);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(fired.map((t) => t.timerId)).toEqual(['far']);
  });

  it('fires nothing after stop', () => {
    const { q, fired } = queue();
    q.schedule('s', 'a', 1_000_010);
    q.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
