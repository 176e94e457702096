// The messages the micro-benchmarks serialize and read, shaped as a node
// sends them at peak: answers of counter operations, and changes of
// sessions with a 200-byte state as the owner replicates them.
import { toByteString } from '../../dist/sessions/session-record.js';

/**
 * A change as the owner replicates it (record and encodeRecord's `how`):
 * the whole record but only the newest dedupe entry, of op id `${client}:N`.
 */
export const changeOf = (i, client) => [
  {
    sessionId: `session-${i}`,
    sessionType: 'counter',
    version: 40,
    schemaVersion: 1,
    owner: 'a',
    epoch: 1,
    state: toByteString(Buffer.from(`{"value":40,"fired":[],"pad":"${'x'.repeat(170)}"}`)),
    timers: [],
    dedupe: [],
    createdAtMs: 1_763_770_000_000,
    updatedAtMs: 1_763_770_000_999,
  },
  { offset: 5_000 + i, dedupeDelta: [{ opId: `${client}:${5_000 + i}`, version: 40, reply: Buffer.from('{"value":40}') }] },
];

/** An ApplyBatch of 16 counter operations, as a client with id `client` sends them. */
export const operationsOf = (client) => ({
  requests: Array.from({ length: 16 }, (_, i) => ({
    sessionId: `session-${i}`,
    opId: `${client}:${5_000 + i}`,
    op: { data: Buffer.from('{"type":"add"}'), contentType: 'application/json' },
    correlationId: 1_000 + i,
  })),
});

/** An ApplyResults of 16 answers to counter operations. */
export const answers = {
  responses: Array.from({ length: 16 }, (_, i) => ({
    correlationId: 1_000 + i,
    version: 40 + i,
    reply: { data: Buffer.from(`{"value":${40 + i}}`), contentType: 'application/json' },
    deduplicated: false,
  })),
};
