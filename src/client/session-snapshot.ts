import type { SessionView__Output } from '../generated/baton/v1/SessionView.js';
import { decodeValue } from './payload-codec.js';

/** A session as the SDK returns it; `state` is decoded when it is JSON. */
export interface SessionSnapshot<S = unknown> {
  readonly sessionId: string;
  readonly sessionType: string;
  readonly version: number;
  readonly schemaVersion: number;
  readonly state: S;
  readonly owner: string;
  readonly timers: readonly { readonly timerId: string; readonly deadlineMs: number }[];
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export function toSnapshot<S>(view: SessionView__Output | null): SessionSnapshot<S> {
  if (view === null) throw new Error('node answered without a session');
  return {
    sessionId: view.sessionId,
    sessionType: view.sessionType,
    version: view.version,
    schemaVersion: view.schemaVersion,
    state: decodeValue(view.state) as S,
    owner: view.owner,
    timers: view.timers.map((t) => ({ timerId: t.timerId, deadlineMs: t.deadlineMs })),
    createdAtMs: view.createdAtMs,
    updatedAtMs: view.updatedAtMs,
  };
}
