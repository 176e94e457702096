import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import type { WatchEventView } from '../../src/index.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';

interface CallState {
  status: string;
  endReason?: string;
}

interface Counter {
  value: number;
  fired: string[];
}

let daemon: DaemonProcess;
let client: BatonClient;

beforeAll(async () => {
  daemon = await DaemonProcess.start({ nodeId: 'timers-a' });
  client = new BatonClient({ nodes: [daemon.sessionAddress] });
});

afterAll(async () => {
  client?.shutdown();
  await killAllDaemons();
});

/**
 * Starts watching a session and collects its events until `until` holds for
 * one; `ready` resolves once the watch is live (its snapshot arrived), so a
 * test can start timers knowing no firing is missed.
 */
function recordWatch<S>(
  sessionId: string,
  until: (event: WatchEventView<S>) => boolean,
): { ready: Promise<void>; done: Promise<WatchEventView<S>[]> } {
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const done = (async () => {
    const events: WatchEventView<S>[] = [];
    const watch = client.watch<S>(sessionId);
    for await (const event of watch) {
      events.push(event);
      markReady();
      if (until(event)) break;
    }
    watch.cancel();
    return events;
  })();
  return { ready, done };
}

describe('session timers', () => {
  it('fire once, at their deadline, as an operation on the session', async () => {
    const session = await client.open<Counter>('counter');
    const watch = recordWatch<Counter>(session.sessionId, (e) => e.timerId === 'sentinel');
    await watch.ready;
    const deadlineMs = Date.now() + 400;
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'once', atMs: deadlineMs, by: 5 });
    // A later sentinel timer: once it has fired, an earlier one cannot still be pending.
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'sentinel', atMs: deadlineMs + 300, by: 100 });
    const events = await watch.done;
    const fired = events.filter((e) => e.timerId === 'once');
    expect(fired).toHaveLength(1);
    const firing = fired[0] as WatchEventView<Counter>;
    expect(firing.opId).toBe(`timer:once:${deadlineMs}`);
    expect(firing.session.updatedAtMs).toBeGreaterThanOrEqual(deadlineMs);
    const after = await client.get<Counter>(session.sessionId);
    expect(after.state).toMatchObject({ value: 105, fired: ['once', 'sentinel'] });
    expect(after.timers).toEqual([]);
  });

  it('fire exactly once each across many sessions', async () => {
    const sessions = await Promise.all(Array.from({ length: 100 }, () => client.open<Counter>('counter')));
    const base = Date.now() + 200;
    await Promise.all(
      sessions.map((s, i) => client.apply(s.sessionId, { type: 'schedule', timerId: 't', atMs: base + (i % 10) * 30 })),
    );
    const last = sessions[sessions.length - 1] as { sessionId: string };
    const watch = recordWatch<Counter>(last.sessionId, (e) => e.session.state.fired.includes('sentinel'));
    await watch.ready;
    await client.apply(last.sessionId, { type: 'schedule', timerId: 'sentinel', atMs: base + 600 });
    await watch.done;
    for (const s of sessions) {
      const got = await client.get<Counter>(s.sessionId);
      expect(got.state.fired.filter((t) => t === 't')).toEqual(['t']);
    }
  });

  it('do not fire once cancelled, and fire once at the new deadline when replaced', async () => {
    const session = await client.open<Counter>('counter');
    const watch = recordWatch<Counter>(session.sessionId, (e) => e.timerId === 'sentinel');
    await watch.ready;
    const now = Date.now();
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'cancelled', atMs: now + 200 });
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'moved', atMs: now + 150 });
    expect((await client.apply(session.sessionId, { type: 'cancel', timerId: 'cancelled' })).reply).toEqual({ cancelled: true });
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'moved', atMs: now + 450 });
    await client.apply(session.sessionId, { type: 'schedule', timerId: 'sentinel', atMs: now + 700 });
    const events = await watch.done;
    expect(events.filter((e) => e.timerId !== undefined).map((e) => e.opId)).toEqual([
      `timer:moved:${now + 450}`,
      `timer:sentinel:${now + 700}`,
    ]);
    expect((await client.get<Counter>(session.sessionId)).state.fired).toEqual(['moved', 'sentinel']);
  });
});

describe('call timers', () => {
  it('end an unanswered call as no-answer when the ring timeout fires', async () => {
    const call = await client.open('call', { params: { from: 'a', to: 'b', ringTimeoutMs: 300 } });
    await recordWatch<CallState>(call.sessionId, (e) => e.session.state.status === 'ended').done;
    const ended = await client.get<CallState>(call.sessionId);
    expect(ended.state).toMatchObject({ status: 'ended', endReason: 'no-answer' });
    expect(ended.timers).toEqual([]);
    expect(ended.version).toBe(1);
    expect(ended.updatedAtMs).toBeGreaterThanOrEqual(call.createdAtMs + 300);
  });

  it('end an answered call at its maximum duration, and the cancelled ring timeout never fires', async () => {
    const call = await client.open('call', { params: { from: 'a', to: 'b', ringTimeoutMs: 250, maxDurationMs: 500 } });
    await client.apply(call.sessionId, { type: 'answer' });
    await client.apply(call.sessionId, { type: 'hold' });
    await recordWatch<CallState>(call.sessionId, (e) => e.session.state.status === 'ended').done;
    const ended = await client.get<CallState>(call.sessionId);
    expect(ended.state).toMatchObject({ status: 'ended', endReason: 'max-duration' });
    expect(ended.version).toBe(3);
  });
});
