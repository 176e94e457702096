import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient, RemoteError } from '../../src/index.js';
import type { SessionSnapshot } from '../../src/index.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';

let daemon: DaemonProcess;
let client: BatonClient;

beforeAll(async () => {
  daemon = await DaemonProcess.start({
    nodeId: 'bad-input',
    args: ['--max-state-bytes', '4096', '--max-operation-bytes', '1024', '--max-timers-per-session', '3'],
  });
  client = new BatonClient({ nodes: [daemon.sessionAddress], deadlineMs: 5_000 });
});

afterAll(async () => {
  client?.shutdown();
  await killAllDaemons();
});

/** What a client can observe of a session: must be identical before and after a refused operation. */
function observable(s: SessionSnapshot): unknown {
  return { version: s.version, state: s.state, timers: s.timers, updatedAtMs: s.updatedAtMs };
}

async function expectRefused(
  promise: Promise<unknown>,
  grpcCode: status,
  code: string,
  message: RegExp,
): Promise<RemoteError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  const remote = err as RemoteError;
  expect({ grpcCode: remote.grpcCode, code: remote.code }).toEqual({ grpcCode, code });
  expect(remote.message).toMatch(message);
  return remote;
}

describe.each(['stream', 'unary'] as const)('a refused operation over the %s transport', (transport) => {
  const cases: {
    name: string;
    op: unknown;
    contentType?: string;
    grpcCode: status;
    code: string;
    message: RegExp;
    handlerCode?: string;
  }[] = [
    {
      name: 'malformed operation bytes',
      op: Buffer.from('{"type": "add", by'),
      contentType: 'application/json',
      grpcCode: status.INVALID_ARGUMENT,
      code: 'ERR_MALFORMED_PAYLOAD',
      message: /operation is not valid application\/json for session type "counter"/,
    },
    {
      name: 'an operation in a content type the handler does not take',
      op: Buffer.from([1, 2, 3]),
      contentType: 'application/x-protobuf',
      grpcCode: status.INVALID_ARGUMENT,
      code: 'ERR_MALFORMED_PAYLOAD',
      message: /content type "application\/x-protobuf", but session type "counter" takes "application\/json"/,
    },
    {
      name: 'an operation the handler rejects',
      op: { type: 'reject' },
      grpcCode: status.FAILED_PRECONDITION,
      code: 'ERR_OPERATION_REJECTED',
      message: /counter: this operation is always refused/,
      handlerCode: 'COUNTER_REJECTED',
    },
    {
      name: 'an operation the handler throws on',
      op: { type: 'crash' },
      grpcCode: status.INTERNAL,
      code: 'ERR_HANDLER_FAILED',
      message: /handler "counter" apply\(\) threw: .*field/,
    },
    {
      name: 'an oversize operation',
      op: { type: 'add', by: 1, filler: 'x'.repeat(2000) },
      grpcCode: status.RESOURCE_EXHAUSTED,
      code: 'ERR_OPERATION_TOO_LARGE',
      message: /operation is \d+ bytes; this node accepts at most 1024 \(--max-operation-bytes\)/,
    },
    {
      name: 'an operation that would make the state oversize',
      op: { type: 'pad', bytes: 5000 },
      grpcCode: status.RESOURCE_EXHAUSTED,
      code: 'ERR_STATE_TOO_LARGE',
      message: /grow session ".+" to \d+ bytes of state; the limit is 4096 \(--max-state-bytes\); nothing was applied/,
    },
    {
      name: 'an operation that sets too many timers',
      op: { type: 'schedule', timerId: 't4', inMs: 60_000 },
      grpcCode: status.RESOURCE_EXHAUSTED,
      code: 'ERR_TOO_MANY_TIMERS',
      message: /would have more than 3 timers/,
    },
  ];

  it.each(cases)('$name gets $code and leaves the session as it was', async (c) => {
    const session = await client.open('counter', { params: { start: 7 } });
    for (const timerId of ['t1', 't2', 't3']) {
      await client.apply(session.sessionId, { type: 'schedule', timerId, inMs: 60_000 });
    }
    await client.apply(session.sessionId, { type: 'add', by: 1 });
    const before = await client.get(session.sessionId);
    const err = await expectRefused(
      client.apply(session.sessionId, c.op, { transport, ...(c.contentType ? { contentType: c.contentType } : {}) }),
      c.grpcCode,
      c.code,
      c.message,
    );
    expect(err.handlerCode).toBe(c.handlerCode);
    const after = await client.get(session.sessionId);
    expect(observable(after)).toEqual(observable(before));
    // The session still works.
    const next = await client.apply<{ value: number }>(session.sessionId, { type: 'add', by: 1 }, { transport });
    expect(next).toMatchObject({ version: before.version + 1, reply: { value: 9 } });
  });

  it('an unknown session gets ERR_SESSION_NOT_FOUND', async () => {
    await expectRefused(
      client.apply('no-such-session', { type: 'add' }, { transport }),
      status.NOT_FOUND,
      'ERR_SESSION_NOT_FOUND',
      /session "no-such-session" does not exist/,
    );
  });

  it('an empty operation id gets ERR_INVALID_ARGUMENT and applies nothing', async () => {
    const session = await client.open('counter');
    await expectRefused(
      client.apply(session.sessionId, { type: 'add' }, { transport, opId: '' }),
      status.INVALID_ARGUMENT,
      'ERR_INVALID_ARGUMENT',
      /op_id: must not be empty/,
    );
    expect((await client.get(session.sessionId)).version).toBe(0);
  });
});

describe('the call handler', () => {
  it('refuses an invalid transition with INVALID_TRANSITION and keeps the call as it was', async () => {
    const call = await client.open('call', { params: { from: 'alice', to: 'bob' } });
    const before = await client.get(call.sessionId);
    const err = await expectRefused(
      client.apply(call.sessionId, { type: 'hold' }),
      status.FAILED_PRECONDITION,
      'ERR_OPERATION_REJECTED',
      /cannot hold a call that is ringing; hold is allowed when the call is answered/,
    );
    expect(err.handlerCode).toBe('INVALID_TRANSITION');
    expect(observable(await client.get(call.sessionId))).toEqual(observable(before));
    await client.apply(call.sessionId, { type: 'hangup' });
    await expectRefused(
      client.apply(call.sessionId, { type: 'resume' }),
      status.FAILED_PRECONDITION,
      'ERR_OPERATION_REJECTED',
      /cannot resume a call that is ended/,
    );
  });

  it('refuses an open without the parties and creates nothing', async () => {
    const err = await expectRefused(
      client.open('call', { sessionId: 'call-no-params', params: { from: 'alice' } }),
      status.FAILED_PRECONDITION,
      'ERR_OPERATION_REJECTED',
      /params.to must be a non-empty string/,
    );
    expect(err.handlerCode).toBe('INVALID_PARAMS');
    await expect(client.get('call-no-params')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });
});

describe('open', () => {
  it('refuses an unknown session type and names the known ones', async () => {
    await expectRefused(
      client.open('chatroom', { sessionId: 'unknown-type' }),
      status.INVALID_ARGUMENT,
      'ERR_UNKNOWN_SESSION_TYPE',
      /unknown session type "chatroom"; this node has handlers for: call, counter/,
    );
    await expect(client.get('unknown-type')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });

  it('refuses malformed params', async () => {
    await expectRefused(
      client.open('counter', { sessionId: 'bad-params', params: Buffer.from('{nope'), contentType: 'application/json' }),
      status.INVALID_ARGUMENT,
      'ERR_MALFORMED_PAYLOAD',
      /params is not valid application\/json/,
    );
    await expect(client.get('bad-params')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
  });

  it('refuses a session id with characters outside the accepted set', async () => {
    await expectRefused(
      client.open('counter', { sessionId: 'has space' }),
      status.INVALID_ARGUMENT,
      'ERR_INVALID_ARGUMENT',
      /session_id: "has space" has characters outside/,
    );
  });

  it('refuses an id that is taken, without touching the existing session', async () => {
    await client.open('counter', { sessionId: 'taken', params: { start: 3 } });
    await expectRefused(
      client.open('counter', { sessionId: 'taken', params: { start: 100 } }),
      status.ALREADY_EXISTS,
      'ERR_SESSION_EXISTS',
      /session "taken" already exists/,
    );
    expect((await client.get<{ value: number }>('taken')).state.value).toBe(3);
  });
});

describe('the session limit', () => {
  it('refuses opens beyond --max-sessions with a clear error', async () => {
    const small = await DaemonProcess.start({ nodeId: 'small', args: ['--max-sessions', '2'] });
    const c = new BatonClient({ nodes: [small.sessionAddress] });
    try {
      await c.open('counter');
      await c.open('counter');
      await expectRefused(
        c.open('counter'),
        status.RESOURCE_EXHAUSTED,
        'ERR_TOO_MANY_SESSIONS',
        /holds 2 sessions, its limit \(--max-sessions\)/,
      );
    } finally {
      c.shutdown();
      await small.stop();
    }
  });
});
