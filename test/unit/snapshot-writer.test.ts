import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReplicationLog } from '../../src/replication/replication-log.js';
import type { EngineEvent, SessionEngine } from '../../src/sessions/session-engine.js';
import type { RecordWrite, SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { SnapshotWriter } from '../../src/snapshots/snapshot-writer.js';

const INTERVAL_MS = 1_000;
const BATCH = 2;

/**
 * A writer over a store that records what it was sent, and an engine that
 * owns `owned` sessions (pure scheduling logic: the integration tests run
 * the writer against a real Redis).
 */
function writerOf(owned: number, dirtyMax = 1_000) {
  const ids = Array.from({ length: owned }, (_, i) => `s${i}`);
  let listener: (event: EngineEvent) => void = () => {};
  const engine = {
    epoch: 1,
    onEvent: (fn: (event: EngineEvent) => void) => {
      listener = fn;
    },
    snapshotOf: (id: string) => ({ version: 1, payload: id }),
    idsOwnedBy: () => ids,
  } as unknown as SessionEngine;
  const batches: string[][] = [];
  let watermarks = 0;
  const store = {
    redis: { status: 'ready' },
    write: async (_epoch: number, _node: string, records: RecordWrite[]) => {
      batches.push(records.map((r) => r.sessionId));
      return records.length;
    },
    setWatermark: async () => {
      watermarks += 1;
    },
  } as unknown as SnapshotStore;
  const log = { offset: 7, replicationId: 'r' } as unknown as ReplicationLog;
  const writer = new SnapshotWriter({ nodeId: 'a', intervalMs: INTERVAL_MS, dirtyMax, batch: BATCH }, store, engine, log, pino({ level: 'silent' }));
  const change = (id: string): void => listener({ type: 'changed', record: { sessionId: id } } as unknown as EngineEvent);
  for (const id of ids) change(id);
  return { writer, batches, change, watermarks: () => watermarks, written: () => batches.flat().length };
}

/** Advances fake time 1 ms at a time until `promise` settles; fails past `limitMs`. */
async function settle(promise: Promise<unknown>, limitMs = 20): Promise<void> {
  let done = false;
  void promise.finally(() => {
    done = true;
  });
  for (let ms = 0; ms < limitMs && !done; ms++) await vi.advanceTimersByTimeAsync(1);
  expect(done).toBe(true);
  await promise;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SnapshotWriter pacing', () => {
  it('spreads the batches of a periodic flush over half the interval', async () => {
    // 10 dirty sessions, 2 per batch: 5 batches, one every 100 ms.
    const { writer, written, watermarks } = writerOf(10);
    writer.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(written()).toBe(2);
    await vi.advanceTimersByTimeAsync(60);
    expect(written()).toBe(2);
    await vi.advanceTimersByTimeAsync(40);
    expect(written()).toBe(4);
    await vi.advanceTimersByTimeAsync(310);
    expect(written()).toBe(10);
    expect(watermarks()).toBe(1);
    expect(writer.status().dirty).toBe(0);
    await settle(writer.stop());
  });

  it('finishes a paced flush at full speed when a full flush is asked for', async () => {
    const { writer, written, batches } = writerOf(10);
    writer.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(written()).toBe(2);
    // Turns of the event loop, no waiting: the rest of the paced flush, then every owned session.
    await settle(writer.flushAll());
    expect(written()).toBe(20);
    expect(batches.slice(5).flat()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`));
    await settle(writer.stop());
  });

  it('finishes a paced flush at full speed once --snapshot-dirty-max sessions are dirty again', async () => {
    const { writer, written, change } = writerOf(10, 12);
    writer.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(written()).toBe(2);
    for (let i = 0; i < 12; i++) change(`new-${i}`);
    await vi.advanceTimersByTimeAsync(10);
    expect(written()).toBe(10);
    await settle(writer.stop());
  });

  it('never paces a flush it was asked for directly, nor the last one at stop', async () => {
    const { writer, written } = writerOf(10);
    await settle(writer.flush());
    expect(written()).toBe(10);
    writer.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(written()).toBe(10);
    // Nothing was dirty at that tick; now stop with 10 dirty again.
    for (let i = 0; i < 10; i++) writer.markDirty(`s${i}`);
    await settle(writer.stop());
    expect(written()).toBe(20);
  });
});
