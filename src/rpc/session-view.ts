import { fromByteString } from '../sessions/session-record.js';
import type { SessionRecord } from '../sessions/session-record.js';
import type { SessionView } from '../generated/baton/v1/SessionView.js';

/** A stored record as clients see it. */
export function toSessionView(record: SessionRecord, contentType: string): SessionView {
  return {
    sessionId: record.sessionId,
    sessionType: record.sessionType,
    version: record.version,
    schemaVersion: record.schemaVersion,
    state: { data: fromByteString(record.state), contentType },
    owner: record.owner,
    timers: record.timers.map((t) => ({ timerId: t.timerId, deadlineMs: t.deadlineMs })),
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
  };
}
