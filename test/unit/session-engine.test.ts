import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HandlerRegistry } from '../../src/sessions/handler-registry.js';
import { SessionEngine } from '../../src/sessions/session-engine.js';
import type { EngineOptions } from '../../src/sessions/engine-options.js';
import { CHUNK_BYTES } from '../../src/sessions/packed-store.js';
import { COUNTER_HANDLER } from '../helpers/paths.js';
import { fileURLToPath } from 'node:url';

const OPTIONS: EngineOptions = {
  nodeId: 'unit',
  maxSessions: 100,
  maxStateBytes: 10_000,
  maxOperationBytes: 1_000,
  dedupeWindow: 4,
  maxTimersPerSession: 8,
};

const json = (value: unknown): { data: Buffer; contentType: string } => ({
  data: Buffer.from(JSON.stringify(value)),
  contentType: '',
});
/** A reply, or a stored state (a byte string of UTF-8 JSON), as a value. */
const decode = (bytes: Buffer | string): unknown =>
  JSON.parse((typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).toString('utf8')) as unknown;

let engine: SessionEngine;
let registry: HandlerRegistry;

beforeEach(async () => {
  vi.useFakeTimers({ now: 5_000_000 });
  registry = new HandlerRegistry();
  await registry.load('counter', COUNTER_HANDLER);
  engine = new SessionEngine(OPTIONS, registry, pino({ level: 'silent' }));
  engine.start();
});
afterEach(() => {
  vi.useRealTimers();
});

function open(sessionId: string): void {
  engine.open({ sessionType: 'counter', sessionId, params: json({ start: 0 }), opId: '' });
}

describe('the dedupe window', () => {
  it('returns the original reply for a retry inside the window and re-applies one that fell out of it', () => {
    open('s');
    engine.apply({ sessionId: 's', opId: 'first', op: json({ type: 'add', by: 100 }) });
    for (let i = 0; i < 3; i++) engine.apply({ sessionId: 's', opId: `n${i}`, op: json({ type: 'add' }) });
    const inside = engine.apply({ sessionId: 's', opId: 'first', op: json({ type: 'add', by: 100 }) });
    expect(inside).toMatchObject({ deduplicated: true, version: 1 });
    expect(decode(inside.reply)).toEqual({ value: 100 });
    engine.apply({ sessionId: 's', opId: 'n3', op: json({ type: 'add' }) });
    expect(engine.get('s').dedupe.map((d) => d.opId)).toEqual(['n0', 'n1', 'n2', 'n3']);
    const outside = engine.apply({ sessionId: 's', opId: 'first', op: json({ type: 'add', by: 100 }) });
    expect(outside.deduplicated).toBe(false);
    expect(decode(engine.get('s').state)).toMatchObject({ value: 204 });
  });
});

describe('a handler that mutates its state and then fails', () => {
  it('leaves the stored state as it was', () => {
    open('m');
    engine.apply({ sessionId: 'm', opId: 'a', op: json({ type: 'add', by: 2 }) });
    const before = engine.get('m').state;
    // "pad" mutates the state in place, then the state is over the limit.
    expect(() => engine.apply({ sessionId: 'm', opId: 'b', op: json({ type: 'pad', bytes: 20_000 }) })).toThrow(/the limit is 10000/);
    expect(engine.get('m').state).toBe(before);
    expect(engine.get('m').version).toBe(1);
    expect(engine.stats()).toMatchObject({ operationsApplied: 1, operationsRefused: 1 });
  });
});

describe('timers', () => {
  it('are consumed exactly once even when their operation fails', () => {
    open('t');
    // A timer whose operation the counter refuses when it fires ("by" is not a number).
    engine.apply({ sessionId: 't', opId: 'w', op: json({ type: 'schedule', timerId: 'bad', inMs: 100, by: 'oops' }) });
    engine.apply({ sessionId: 't', opId: 'x', op: json({ type: 'schedule', timerId: 'good', inMs: 200 }) });
    const stateBefore = engine.get('t').state;
    vi.advanceTimersByTime(150);
    expect(engine.get('t').timers.map((t) => t.timerId)).toEqual(['good']);
    expect(engine.get('t').state).toBe(stateBefore);
    expect(engine.get('t').dedupe.at(-1)?.opId).toBe('timer:bad:5000100');
    vi.advanceTimersByTime(100);
    expect(decode(engine.get('t').state)).toMatchObject({ value: 1, fired: ['good'] });
    vi.advanceTimersByTime(10_000);
    expect(decode(engine.get('t').state)).toMatchObject({ value: 1, fired: ['good'] });
  });

  it('of a closed session never fire', () => {
    open('c');
    engine.apply({ sessionId: 'c', opId: 'x', op: json({ type: 'schedule', timerId: 'z', inMs: 50 }) });
    engine.close({ sessionId: 'c', opId: '' });
    vi.advanceTimersByTime(1_000);
    expect(engine.stats().pendingTimers).toBe(0);
    expect(() => engine.get('c')).toThrow(/does not exist/);
  });
});

describe('a handler that is not synchronous', () => {
  it('is refused with a clear error and creates nothing', async () => {
    const asyncHandler = fileURLToPath(new URL('../fixtures/async-counter.js', import.meta.url));
    await registry.load('counter', asyncHandler);
    expect(() => engine.open({ sessionType: 'counter', sessionId: 'p', params: json({}), opId: '' })).toThrow(
      /handler "counter" init\(\) returned a Promise; init and apply must be synchronous/,
    );
    expect(engine.stats().sessions).toBe(0);
  });
});

describe('schema versions', () => {
  it('migrates older state on the next operation and refuses state newer than the handler', async () => {
    const v2 = fileURLToPath(new URL('../fixtures/counter-v2.js', import.meta.url));
    open('old');
    engine.apply({ sessionId: 'old', opId: 'a', op: json({ type: 'add', by: 3 }) });
    await registry.load('counter', v2);
    const result = engine.apply({ sessionId: 'old', opId: 'b', op: json({ type: 'add', by: 1 }) });
    expect(decode(result.reply)).toEqual({ total: 4 });
    expect(engine.get('old').schemaVersion).toBe(2);
    await registry.load('counter', COUNTER_HANDLER);
    expect(() => engine.apply({ sessionId: 'old', opId: 'c', op: json({ type: 'add' }) })).toThrow(
      /has state schema 2, newer than this node's handler \(schema 1\)/,
    );
  });
});

describe('packed sessions', () => {
  const IDLE_MS = 1_000;

  it('packs only sessions unchanged for the idle time, and unpacks one on its next operation', () => {
    open('idle');
    engine.apply({ sessionId: 'idle', opId: 'a', op: json({ type: 'add', by: 5 }) });
    vi.advanceTimersByTime(IDLE_MS);
    open('busy');
    expect(engine.packIdle(IDLE_MS, 100)).toBe(true);
    expect(engine.stats()).toMatchObject({ sessions: 2, sessionsOwned: 2, sessionsPacked: 1 });
    const again = engine.apply({ sessionId: 'idle', opId: 'b', op: json({ type: 'add', by: 1 }) });
    expect(again).toMatchObject({ version: 2, deduplicated: false });
    expect(decode(again.reply)).toEqual({ value: 6 });
    expect(engine.stats().sessionsPacked).toBe(0);
  });

  it('answer a retry with the original reply', () => {
    open('r');
    engine.apply({ sessionId: 'r', opId: 'once', op: json({ type: 'add', by: 7 }) });
    vi.advanceTimersByTime(IDLE_MS);
    engine.packIdle(IDLE_MS, 100);
    expect(engine.stats().sessionsPacked).toBe(1);
    const retry = engine.apply({ sessionId: 'r', opId: 'once', op: json({ type: 'add', by: 7 }) });
    expect(retry).toMatchObject({ version: 1, deduplicated: true });
    expect(decode(retry.reply)).toEqual({ value: 7 });
  });

  it('keep their timers: one fires on time and a closed one never does', () => {
    open('t');
    open('c');
    engine.apply({ sessionId: 't', opId: 'x', op: json({ type: 'schedule', timerId: 'z', inMs: 5_000 }) });
    engine.apply({ sessionId: 'c', opId: 'x', op: json({ type: 'schedule', timerId: 'z', inMs: 5_000 }) });
    vi.advanceTimersByTime(IDLE_MS);
    engine.packIdle(IDLE_MS, 100);
    expect(engine.stats()).toMatchObject({ sessionsPacked: 2, pendingTimers: 2 });
    engine.close({ sessionId: 'c', opId: '' });
    expect(engine.stats().pendingTimers).toBe(1);
    vi.advanceTimersByTime(5_000);
    expect(decode(engine.get('t').state)).toMatchObject({ fired: ['z'] });
    expect(engine.stats().pendingTimers).toBe(0);
  });

  it('spread a pass over calls, never visiting more than the budget at once', () => {
    for (let i = 0; i < 5; i++) open(`s${i}`);
    vi.advanceTimersByTime(IDLE_MS);
    expect(engine.packIdle(IDLE_MS, 2)).toBe(false);
    expect(engine.stats().sessionsPacked).toBe(2);
    expect(engine.packIdle(IDLE_MS, 2)).toBe(false);
    expect(engine.packIdle(IDLE_MS, 2)).toBe(true);
    expect(engine.stats().sessionsPacked).toBe(5);
  });

  it('are listed, looked up and snapshotted as the records they hold, staying packed', () => {
    open('k');
    engine.apply({ sessionId: 'k', opId: 'a', op: json({ type: 'add', by: 3 }) });
    const live = engine.snapshotOf('k');
    vi.advanceTimersByTime(IDLE_MS);
    engine.packIdle(IDLE_MS, 100);
    expect(engine.snapshotOf('k')).toEqual(live);
    expect(engine.idsOwnedBy('unit')).toEqual(['k']);
    expect(engine.idsOwnedBy('other')).toEqual([]);
    expect(engine.heldBy('unit').map((r) => (Buffer.isBuffer(r) ? 'packed' : r.version))).toEqual(['packed']);
    expect(engine.heldBy('other')).toEqual([]);
    expect([...engine.records()].map((r) => [r.sessionId, decode(r.state)])).toEqual([['k', expect.objectContaining({ value: 3 })]]);
    expect(engine.stats().sessionsPacked).toBe(1);
  });

  it('move out of a mostly unpacked chunk of the store on the next passes, still reading the same', () => {
    // 3 000 sessions of about 1 KB packed fill three chunks of the store.
    const big = new SessionEngine({ ...OPTIONS, maxSessions: 3_000 }, registry, pino({ level: 'silent' }));
    const ids = Array.from({ length: 3_000 }, (_, i) => `b${i}`);
    for (const [i, sessionId] of ids.entries()) {
      big.open({ sessionType: 'counter', sessionId, params: json({ start: i }), opId: '' });
      big.apply({ sessionId, opId: 'p', op: json({ type: 'pad', bytes: 900 }) });
    }
    vi.advanceTimersByTime(IDLE_MS);
    expect(big.packIdle(IDLE_MS, 10_000)).toBe(true);
    const full = big.stats().packedStore;
    expect(full).toMatchObject({ records: 3_000, chunksToEmpty: 0 });
    expect(full.chunkBytes).toBeGreaterThanOrEqual(3 * CHUNK_BYTES);
    // Unpacking most of the first and second thousand leaves their chunks mostly free.
    for (const sessionId of [...ids.slice(0, 900), ...ids.slice(1_100, 2_000)]) big.get(sessionId);
    expect(big.stats().packedStore.chunksToEmpty).toBeGreaterThan(0);
    expect(big.hasPackedToMove()).toBe(true);
    // A pass that packs nothing (packing off) still moves them.
    while (!big.packIdle(Infinity, 500));
    const after = big.stats();
    expect(after).toMatchObject({ sessionsPacked: 1_200, packedStore: { records: 1_200, chunksToEmpty: 0 } });
    expect(after.packedStore.chunkBytes).toBeLessThan(full.chunkBytes);
    expect(big.hasPackedToMove()).toBe(false);
    for (const [i, sessionId] of ids.entries()) {
      expect(decode(big.get(sessionId).state)).toMatchObject({ value: i, pad: 'x'.repeat(900) });
    }
  });

  it('installed from a snapshot count as owned, and give way to a newer replicated copy', () => {
    open('src');
    engine.apply({ sessionId: 'src', opId: 'a', op: json({ type: 'add', by: 2 }) });
    const bytes = (engine.snapshotOf('src') as { payload: Buffer }).payload;
    const other = new SessionEngine(OPTIONS, registry, pino({ level: 'silent' }));
    other.installPacked(bytes, 'src', 'unit', 0);
    expect(other.stats()).toMatchObject({ sessions: 1, sessionsOwned: 1, sessionsPacked: 1 });
    const newer = { ...engine.get('src'), version: 9 };
    expect(other.install(newer, true)).toBe(true);
    expect(other.stats()).toMatchObject({ sessions: 1, sessionsOwned: 1, sessionsPacked: 0 });
    expect(other.get('src').version).toBe(9);
  });
});

describe('states and replies as byte strings', () => {
  const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
  const payload = (data: Buffer): { data: Buffer; contentType: string } => ({ data, contentType: '' });

  it('keep non-ASCII JSON as its UTF-8 bytes, in the record, the reply and the change event', async () => {
    await registry.load('notes', fixture('notes'));
    engine.open({ sessionType: 'notes', sessionId: 'n', params: json({}), opId: '' });
    const events: { reply: string }[] = [];
    engine.onEvent((event) => {
      if (event.type === 'changed') events.push({ reply: event.reply });
    });
    const texts = ['plain', 'café', '日本語 😀'];
    let result;
    for (const [i, text] of texts.entries()) result = engine.apply({ sessionId: 'n', opId: `o${i}`, op: json({ type: 'add', text }) });
    const reply = { count: 3, last: '日本語 😀' };
    expect(result?.reply).toEqual(Buffer.from(JSON.stringify(reply), 'utf8'));
    expect(events.at(-1)?.reply).toBe(Buffer.from(JSON.stringify(reply), 'utf8').toString('latin1'));
    expect(engine.get('n').state).toBe(Buffer.from(JSON.stringify({ lines: texts }), 'utf8').toString('latin1'));
    expect(decode(engine.get('n').state)).toEqual({ lines: texts });
    // A retry is answered with the same bytes from the dedupe window.
    expect(engine.apply({ sessionId: 'n', opId: 'o2', op: json({ type: 'add', text: 'ignored' }) })).toMatchObject({
      deduplicated: true,
      reply: Buffer.from(JSON.stringify(reply), 'utf8'),
    });
  });

  it('keep the bytes of a codec of its own, whatever they are', async () => {
    await registry.load('binary-counter', fixture('binary-counter'));
    const float = (n: number): Buffer => {
      const out = Buffer.alloc(8);
      out.writeDoubleBE(n);
      return out;
    };
    engine.open({ sessionType: 'binary-counter', sessionId: 'b', params: payload(Buffer.alloc(0)), opId: '' });
    engine.apply({ sessionId: 'b', opId: 'x', op: payload(float(-2.5)) });
    const result = engine.apply({ sessionId: 'b', opId: 'y', op: payload(float(1e300)) });
    expect(result.reply).toEqual(float(1e300 - 2.5));
    expect(result.contentType).toBe('application/x-float64');
    expect(engine.get('b').state).toBe(float(1e300 - 2.5).toString('latin1'));
  });
});
