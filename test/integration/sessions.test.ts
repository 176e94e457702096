import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { BatonClient } from '../../src/index.js';
import type { ApplyResults__Output } from '../../src/generated/baton/v1/ApplyResults.js';
import { loadBatonProto } from '../../src/rpc/proto-loader.js';
import type { WatchEventView } from '../../src/index.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';

interface CallState {
  status: string;
  holds: number;
  endReason?: string;
  endedBy?: string | null;
}

let daemon: DaemonProcess;
let client: BatonClient;

beforeAll(async () => {
  daemon = await DaemonProcess.start({ nodeId: 'sessions-a' });
  client = new BatonClient({ nodes: [daemon.sessionAddress] });
});

afterAll(async () => {
  client?.shutdown();
  await killAllDaemons();
});

describe.each(['stream', 'unary'] as const)('sessions over the %s transport', (transport) => {
  it('counts exactly once per operation and reports the version', async () => {
    const session = await client.open<{ value: number }>('counter', { params: { start: 5 } });
    expect(session.version).toBe(0);
    expect(session.state.value).toBe(5);
    expect(session.owner).toBe('sessions-a');
    for (let i = 1; i <= 10; i++) {
      const result = await client.apply<{ value: number }>(session.sessionId, { type: 'add', by: 2 }, { transport });
      expect(result).toMatchObject({ version: i, reply: { value: 5 + 2 * i }, deduplicated: false, attempts: 1 });
    }
    const after = await client.get<{ value: number }>(session.sessionId);
    expect(after.version).toBe(10);
    expect(after.state.value).toBe(25);
  });

  it('drives a call through ringing, answered, held, resumed and ended', async () => {
    const call = await client.open<CallState>('call', { params: { from: 'alice', to: 'bob' } });
    expect(call.state.status).toBe('ringing');
    expect(call.timers.map((t) => t.timerId)).toEqual(['ring-timeout']);
    const steps: [string, string][] = [
      ['answer', 'answered'],
      ['hold', 'held'],
      ['resume', 'answered'],
      ['hold', 'held'],
      ['resume', 'answered'],
    ];
    for (const [type, status] of steps) {
      const { reply } = await client.apply<{ status: string }>(call.sessionId, { type }, { transport });
      expect(reply.status).toBe(status);
    }
    const answered = await client.get<CallState>(call.sessionId);
    expect(answered.timers.map((t) => t.timerId)).toEqual(['max-duration']);
    expect(answered.state.holds).toBe(2);
    const { reply } = await client.apply<{ status: string; reason: string }>(
      call.sessionId,
      { type: 'hangup', by: 'bob' },
      { transport },
    );
    expect(reply).toMatchObject({ status: 'ended', reason: 'hangup' });
    const ended = await client.get<CallState>(call.sessionId);
    expect(ended.state).toMatchObject({ status: 'ended', endReason: 'hangup', endedBy: 'bob' });
    expect(ended.timers).toEqual([]);
    expect(ended.version).toBe(6);
  });
});

describe('the apply stream', () => {
  it('carries many concurrent operations on many sessions and answers each one', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => client.open<{ value: number }>('counter')));
    const results = await Promise.all(
      sessions.flatMap((s) => Array.from({ length: 50 }, () => client.apply<{ value: number }>(s.sessionId, { type: 'add' }))),
    );
    expect(results).toHaveLength(1000);
    for (const s of sessions) {
      const got = await client.get<{ value: number }>(s.sessionId);
      expect(got.state.value).toBe(50);
      expect(got.version).toBe(50);
    }
    // Each session's replies are exactly 1..50: every operation applied once.
    const values = results.map((r) => r.reply.value).sort((a, b) => a - b);
    expect(values.filter((v) => v === 50)).toHaveLength(20);
  });
});

describe('apply, as the SDK makes it', () => {
  it('rejects what it cannot send, and passes a refusal on, through the returned promise', async () => {
    const session = await client.open<{ value: number }>('counter');
    // A value JSON cannot encode: the returned promise rejects, the call itself does not throw.
    const unencodable = client.apply(session.sessionId, { type: 'add', by: 1n });
    await expect(unencodable).rejects.toThrow(/BigInt/);
    await expect(client.apply(session.sessionId, { type: 'reject' })).rejects.toMatchObject({ code: 'ERR_OPERATION_REJECTED', handlerCode: 'COUNTER_REJECTED' });
    const after = await client.apply<{ value: number }>(session.sessionId, { type: 'add' });
    expect(after).toMatchObject({ version: 1, reply: { value: 1 }, attempts: 1 });
  });

  it('refuses every call once the client is shut down', async () => {
    const closing = new BatonClient({ nodes: [daemon.sessionAddress] });
    const session = await closing.open('counter');
    closing.shutdown();
    for (const transport of ['stream', 'unary'] as const) {
      await expect(closing.apply(session.sessionId, { type: 'add' }, { transport })).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    }
  });
});

/** An apply stream straight from the generated client, without the SDK. */
function rawApplyStream() {
  const proto = loadBatonProto();
  const raw = new proto.baton.v1.SessionService(daemon.sessionAddress, credentials.createInsecure());
  return { raw, call: raw.ApplyStream() };
}

describe('the apply stream, on the wire', () => {
  it('answers a batch of operations together, each with its own result or error', async () => {
    const { sessionId } = await client.open('counter');
    const { raw, call } = rawApplyStream();
    const messages: ApplyResults__Output[] = [];
    const op = (json: string) => ({ data: Buffer.from(json), contentType: 'application/json' });
    const requests = [
      ...Array.from({ length: 100 }, (_, i) => ({ sessionId, opId: `batch-${i}`, op: op('{"type":"add"}'), correlationId: i + 1 })),
      { sessionId: 'no-such-session', opId: 'missing', op: op('{"type":"add"}'), correlationId: 101 },
      { sessionId, opId: 'bad', op: op('{"type":"reject"}'), correlationId: 102 },
    ];
    const answered = new Promise<void>((resolve, reject) => {
      call.on('data', (results: ApplyResults__Output) => {
        messages.push(results);
        if (messages.flatMap((m) => m.responses).length === requests.length) resolve();
      });
      call.on('error', reject);
    });
    call.write({ requests });
    await answered;
    call.end();
    raw.close();
    // Answers ready together leave together: far fewer messages than operations.
    expect(messages.length).toBeLessThan(10);
    const byId = new Map(messages.flatMap((m) => m.responses).map((r) => [r.correlationId, r]));
    expect([...byId.keys()].sort((a, b) => a - b)).toEqual(requests.map((r) => r.correlationId));
    expect(byId.get(100)?.version).toBe(100);
    expect(byId.get(101)?.error?.code).toBe('ERR_SESSION_NOT_FOUND');
    expect(byId.get(102)?.error?.code).toBe('ERR_OPERATION_REJECTED');
    expect((await client.get<{ value: number }>(sessionId)).state.value).toBe(100);
  });
});

describe('the apply stream, read ahead of applying', () => {
  it('answers every request it read before ending, in order, when the client half-closes at once', async () => {
    const { sessionId } = await client.open('counter');
    const { raw, call } = rawApplyStream();
    const responses: ApplyResults__Output['responses'] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (results: ApplyResults__Output) => responses.push(...results.responses));
      call.on('end', resolve);
      call.on('error', reject);
    });
    const op = { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' };
    // More than the node queues before it stops reading: flow control holds the rest back.
    const perBatch = 1000;
    const batches = 6;
    for (let b = 0; b < batches; b++) {
      call.write({
        requests: Array.from({ length: perBatch }, (_, i) => ({ sessionId, opId: `ahead-${b}-${i}`, op, correlationId: b * perBatch + i + 1 })),
      });
    }
    call.end();
    await ended;
    raw.close();
    expect(responses).toHaveLength(batches * perBatch);
    // Applied in the order sent: version n answers the n-th request.
    for (const r of responses) {
      expect(r.error).toBeNull();
      expect(r.version).toBe(r.correlationId);
    }
    expect((await client.get<{ value: number }>(sessionId)).state.value).toBe(batches * perBatch);
  });
});

describe('open', () => {
  it('uses a client-chosen id and returns the original result when the open is retried', async () => {
    const first = await client.open('counter', { sessionId: 'chosen-1', opId: 'open-op-1', params: { start: 1 } });
    await client.apply('chosen-1', { type: 'add' });
    const retried = await client.open('counter', { sessionId: 'chosen-1', opId: 'open-op-1', params: { start: 1 } });
    expect(retried.sessionId).toBe(first.sessionId);
    expect(retried.version).toBe(1);
  });
});

describe('watch and close', () => {
  it('streams a snapshot, every change with its reply, then closed', async () => {
    const session = await client.open<{ value: number }>('counter');
    const watch = client.watch<{ value: number }, { value: number }>(session.sessionId);
    const events: WatchEventView<{ value: number }, { value: number }>[] = [];
    const done = (async () => {
      for await (const event of watch) events.push(event);
    })();
    // The snapshot arrives first; wait for it before changing anything.
    await expect.poll(() => events.length).toBe(1);
    await client.apply(session.sessionId, { type: 'add', by: 3 }, { opId: 'w-1' });
    await client.apply(session.sessionId, { type: 'add', by: 4 }, { opId: 'w-2' });
    const closed = await client.close(session.sessionId);
    expect(closed.version).toBe(2);
    await done;
    expect(events.map((e) => [e.kind, e.session.version])).toEqual([
      ['snapshot', 0],
      ['change', 1],
      ['change', 2],
      ['closed', 2],
    ]);
    expect(events[1]).toMatchObject({ opId: 'w-1', reply: { value: 3 } });
    expect(events[2]).toMatchObject({ opId: 'w-2', reply: { value: 7 }, session: { state: { value: 7 } } });
    await expect(client.get(session.sessionId)).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });
});
