import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient } from '../../src/index.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

let daemon: DaemonProcess;
let proxy: TcpProxy;
let client: BatonClient;

beforeAll(async () => {
  daemon = await DaemonProcess.start({ nodeId: 'retry-a' });
  proxy = await TcpProxy.start(daemon.sessionAddress);
  client = new BatonClient({ nodes: [proxy.address], attemptTimeoutMs: 1_000, deadlineMs: 10_000 });
});

afterAll(async () => {
  client?.shutdown();
  await proxy?.close();
  await killAllDaemons();
});

describe.each(['stream', 'unary'] as const)('a reply lost on the %s transport', (transport) => {
  it('is retried with the same operation id and applied once', async () => {
    const session = await client.open<{ value: number }>('counter');
    const by = transport === 'stream' ? 4242 : 5353;
    const droppedBefore = proxy.dropped;
    // The node applies the operation; its reply never reaches the client.
    proxy.dropConnectionOnReply(`"value":${by}`);
    const result = await client.apply<{ value: number }>(session.sessionId, { type: 'add', by }, { transport });
    expect(proxy.dropped).toBe(droppedBefore + 1);
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.deduplicated).toBe(true);
    expect(result.reply.value).toBe(by);
    const after = await client.get<{ value: number }>(session.sessionId);
    expect(after.state.value).toBe(by);
    expect(after.version).toBe(1);
  });
});

/**
 * Runs `body` with a node and a client of their own and an open counter
 * session; afterwards, whatever `body` did, the node is let run again
 * (SIGCONT) and the client shut down.
 */
async function withOwnNode(
  nodeId: string,
  attemptTimeoutMs: number,
  body: (node: DaemonProcess, c: BatonClient, sessionId: string) => Promise<void>,
): Promise<void> {
  const node = await DaemonProcess.start({ nodeId });
  const c = new BatonClient({ nodes: [node.sessionAddress], attemptTimeoutMs });
  try {
    const session = await c.open('counter');
    await body(node, c, session.sessionId);
  } finally {
    node.signal('SIGCONT');
    c.shutdown();
  }
}

describe('a paused node', () => {
  it('fails a watch within its deadline instead of hanging', () =>
    withOwnNode('paused', 200, async (paused, c, sessionId) => {
      paused.signal('SIGSTOP');
      const started = Date.now();
      const watch = c.watch(sessionId, { deadlineMs: 1_000 });
      // Nothing arrives from a stopped process: the first event is the failure.
      const failure = await watch[Symbol.asyncIterator]()
        .next()
        .catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
      expect((failure as Error).message).toMatch(/watch session .* did not complete within 1000 ms/);
      expect(Date.now() - started).toBeLessThan(10_000);
    }));

  it('fails each stream operation at its own attempt timeout, a shorter one sent after a longer one included', () =>
    withOwnNode('paused-stream', 5_000, async (paused, c, sessionId) => {
      // Answered at once: the stream is open and has seen an operation come and go.
      await c.apply(sessionId, { type: 'add', by: 1 });
      paused.signal('SIGSTOP');
      const long = c.apply(sessionId, { type: 'add', by: 10 }, { deadlineMs: 30_000 });
      const started = Date.now();
      const short = await c.apply(sessionId, { type: 'add', by: 100 }, { deadlineMs: 300 }).catch((e: unknown) => e);
      expect(short).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
      expect((short as Error).message).toMatch(/did not complete within 300 ms/);
      // Well before the longer operation's 5 s attempt timeout.
      expect(Date.now() - started).toBeLessThan(2_500);
      paused.signal('SIGCONT');
      const answered = await long;
      expect(answered.version).toBeGreaterThanOrEqual(2);
    }));
});

describe('a retry by hand', () => {
  it('with the same operation id returns the original reply without applying again', async () => {
    const session = await client.open<{ value: number }>('counter');
    const first = await client.apply<{ value: number }>(session.sessionId, { type: 'add', by: 10 }, { opId: 'once' });
    await client.apply(session.sessionId, { type: 'add', by: 1 });
    const again = await client.apply<{ value: number }>(session.sessionId, { type: 'add', by: 10 }, { opId: 'once' });
    expect(first).toMatchObject({ version: 1, reply: { value: 10 }, deduplicated: false });
    expect(again).toMatchObject({ version: 1, reply: { value: 10 }, deduplicated: true });
    expect((await client.get<{ value: number }>(session.sessionId)).state.value).toBe(11);
  });
});
