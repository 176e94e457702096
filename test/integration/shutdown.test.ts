import { credentials, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { BatonClient, RemoteError } from '../../src/index.js';
import type { ApplyResponse__Output } from '../../src/generated/baton/v1/ApplyResponse.js';
import type { ApplyResults__Output } from '../../src/generated/baton/v1/ApplyResults.js';
import { loadBatonProto } from '../../src/rpc/proto-loader.js';
import { DaemonProcess, killAllDaemons } from '../helpers/daemon-process.js';

afterEach(async () => {
  await killAllDaemons();
});

type Outcome = { ok: true; value: number } | { ok: false; code: string; grpcCode: number; message: string };

describe('SIGTERM under load', () => {
  it('answers every operation: applied and acknowledged, or refused with a clear error', async () => {
    const daemon = await DaemonProcess.start({ nodeId: 'stop-a', args: ['--grace-ms', '5000'] });
    const client = new BatonClient({ nodes: [daemon.sessionAddress], deadlineMs: 3_000 });
    const sessions = await Promise.all(Array.from({ length: 16 }, () => client.open('counter')));
    const outcomes = new Map<string, Outcome[]>();
    let acked = 0;
    const loops = sessions.map(async ({ sessionId }) => {
      const list: Outcome[] = [];
      outcomes.set(sessionId, list);
      // Several operations in flight per session at once, until the node refuses.
      for (;;) {
        const batch = await Promise.allSettled(
          Array.from({ length: 8 }, () => client.apply<{ value: number }>(sessionId, { type: 'add' })),
        );
        let refused = false;
        for (const r of batch) {
          if (r.status === 'fulfilled') {
            list.push({ ok: true, value: r.value.reply.value });
            acked += 1;
          } else {
            refused = true;
            const e = r.reason as RemoteError;
            expect(e).toBeInstanceOf(RemoteError);
            list.push({ ok: false, code: e.code, grpcCode: e.grpcCode, message: e.message });
          }
        }
        if (refused) return;
      }
    });
    await expect.poll(() => acked, { timeout: 10_000 }).toBeGreaterThan(2_000);
    daemon.signal('SIGTERM');
    await Promise.all(loops);
    const exit = await daemon.waitExit();
    client.shutdown();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.logs.some((l) => l.msg === 'node state stopping -> stopped')).toBe(true);
    for (const list of outcomes.values()) {
      const values = list.flatMap((o) => (o.ok ? [o.value] : [])).sort((a, b) => a - b);
      // Acknowledged replies are 1..n without gaps or repeats: each applied exactly once.
      expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i + 1));
      for (const o of list) {
        if (o.ok) continue;
        // Refused by the stopping node, or (once it is gone) the call's
        // deadline ran out while retrying: both say what happened.
        expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(o.grpcCode);
        expect(['ERR_NODE_STOPPING', 'ERR_UNAVAILABLE', 'ERR_DEADLINE_EXCEEDED']).toContain(o.code);
        expect(o.message).toMatch(/shutting down|did not complete within 3000 ms \(\d+ attempts\); last error: .+/);
      }
    }
  });

  it('on the raw stream: the node answers every operation it read, then ends the stream', async () => {
    const daemon = await DaemonProcess.start({ nodeId: 'stop-raw', args: ['--grace-ms', '5000'] });
    const seed = new BatonClient({ nodes: [daemon.sessionAddress] });
    const { sessionId } = await seed.open('counter', { sessionId: 'raw' });
    seed.shutdown();

    const proto = loadBatonProto();
    const raw = new proto.baton.v1.SessionService(daemon.sessionAddress, credentials.createInsecure());
    const call = raw.ApplyStream();
    const answers = new Map<number, ApplyResponse__Output>();
    let sent = 0;
    let halfClosed = false;
    let signalled = false;
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (results: ApplyResults__Output) => {
        for (const res of results.responses) {
          expect(answers.has(res.correlationId)).toBe(false);
          answers.set(res.correlationId, res);
          if (res.error?.code === 'ERR_NODE_STOPPING' && !halfClosed) {
            halfClosed = true;
            call.end();
          }
        }
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    const op = { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' };
    const pump = async (): Promise<void> => {
      while (!halfClosed) {
        // At most 500 unanswered at a time, like a client with a window.
        const requests = [];
        for (let i = 0; i < 50 && !halfClosed && sent - answers.size < 500; i++) {
          sent += 1;
          requests.push({ sessionId, opId: `raw-${sent}`, op, correlationId: sent });
        }
        if (requests.length > 0) call.write({ requests });
        await new Promise((r) => setImmediate(r));
        if (answers.size >= 2_000 && !signalled) {
          signalled = true;
          daemon.signal('SIGTERM');
        }
      }
    };
    await Promise.all([pump(), ended]);
    raw.close();
    expect((await daemon.waitExit()).code).toBe(0);

    expect(answers.size).toBe(sent);
    const applied = [...answers.values()].filter((a) => a.error === null);
    const refused = [...answers.values()].filter((a) => a.error !== null);
    expect(applied.length).toBeGreaterThanOrEqual(2_000);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.error).toMatchObject({ code: 'ERR_NODE_STOPPING', grpcCode: status.UNAVAILABLE });
    // Versions of the applied operations are exactly 1..n.
    expect(applied.map((a) => a.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: applied.length }, (_, i) => i + 1),
    );
  });
});
