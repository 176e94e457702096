// A started SessionEngine serving the counter handler, for the in-process
// micro-benchmarks (no daemon, no network).
import { pino } from 'pino';
import { HandlerRegistry } from '../../dist/sessions/handler-registry.js';
import { SessionEngine } from '../../dist/sessions/session-engine.js';
import { COUNTER_HANDLER_PATH } from '../harness/paths.mjs';

/** Room for `sessions` counter sessions, each remembering `window` operations. */
export async function counterEngine({ sessions, window }) {
  const registry = new HandlerRegistry();
  await registry.load('counter', COUNTER_HANDLER_PATH);
  const engine = new SessionEngine(
    { nodeId: 'micro', maxSessions: sessions, maxStateBytes: 1_000_000, maxOperationBytes: 100_000, dedupeWindow: window, maxTimersPerSession: 8 },
    registry,
    pino({ level: 'silent' }),
  );
  engine.start();
  return engine;
}

/** A counter operation or open parameters, as the engine takes them. */
export const json = (value) => ({ data: Buffer.from(JSON.stringify(value)), contentType: '' });

/**
 * Opens `count` counter sessions `${prefix}${i}`, each padded to a state of
 * about 200 bytes, with the op ids `opId()` gives (two per session).
 */
export function openPadded(engine, { count, prefix, opId }) {
  for (let i = 0; i < count; i++) {
    const sessionId = `${prefix}${i}`;
    engine.open({ sessionType: 'counter', sessionId, params: json({}), opId: opId() });
    engine.apply({ sessionId, opId: opId(), op: json({ type: 'pad', bytes: 170 }) });
  }
}
