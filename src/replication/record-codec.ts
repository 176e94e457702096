import protobuf from 'protobufjs';
import { PROTO_DIR } from '../rpc/proto-loader.js';
import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import type { SessionRecord__Output as WireRecordOutput } from '../generated/baton/v1/SessionRecord.js';
import { EMPTY_BYTES, ownedBytes } from '../sessions/owned-bytes.js';
import type { DedupeEntry, SessionRecord, TimerEntry } from '../sessions/session-record.js';

/**
 * Conversions between the in-memory SessionRecord and its wire form
 * (baton.v1.SessionRecord), which is also what a Redis snapshot stores.
 */

export interface WireOptions {
  /** Ship only these dedupe entries (a delta) instead of the whole window. */
  readonly dedupeDelta?: DedupeEntry[];
  readonly deleted?: boolean;
  readonly offset?: number;
}

/**
 * The wire form of a record. Runs for every change of an owned session, so
 * it copies nothing: timer arrays and dedupe windows are replaced, never
 * changed in place, and their entries have the wire shapes already.
 */
export function toWire(record: SessionRecord, options: WireOptions = {}): WireRecord {
  return {
    sessionId: record.sessionId,
    sessionType: record.sessionType,
    version: record.version,
    owner: record.owner,
    epoch: record.epoch,
    schemaVersion: record.schemaVersion,
    state: record.state,
    // Both arrays are replaced on change, never changed in place: shared as they are.
    timers: record.timers as TimerEntry[],
    dedupe: (options.dedupeDelta ?? record.dedupe) as DedupeEntry[],
    dedupeComplete: options.dedupeDelta === undefined,
    deleted: options.deleted === true,
    offset: options.offset ?? 0,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
  };
}

/** A wire record as a stored record (dedupe as shipped; the caller merges deltas). */
export function fromWire(wire: WireRecordOutput): SessionRecord {
  return {
    sessionId: wire.sessionId,
    sessionType: wire.sessionType,
    version: wire.version,
    schemaVersion: wire.schemaVersion,
    owner: wire.owner,
    epoch: wire.epoch,
    // Wire buffers are slices of whole received messages: copy what we keep.
    state: ownedBytes(wire.state),
    timers: wire.timers.map((t) => ({ timerId: t.timerId, deadlineMs: t.deadlineMs, payload: ownedBytes(t.payload) })),
    dedupe: wire.dedupe.map((d) => ({ opId: d.opId, version: d.version, reply: d.reply.length === 0 ? EMPTY_BYTES : ownedBytes(d.reply) })),
    createdAtMs: wire.createdAtMs,
    updatedAtMs: wire.updatedAtMs,
  };
}

/**
 * Memory a record held in the backlog costs, estimated without encoding it:
 * its bytes plus the objects around them (a record object, arrays, buffer
 * headers), so that --backlog-bytes bounds memory, not just payload.
 */
export function wireSize(wire: WireRecord): number {
  const OBJECT = 96;
  let size = 4 * OBJECT + 2 * ((wire.sessionId?.length ?? 0) + (wire.sessionType?.length ?? 0) + (wire.owner?.length ?? 0));
  size += (wire.state as Buffer | undefined)?.length ?? 0;
  for (const t of wire.timers ?? []) size += 2 * OBJECT + 2 * (t.timerId?.length ?? 0) + ((t.payload as Buffer | undefined)?.length ?? 0);
  for (const d of wire.dedupe ?? []) size += 2 * OBJECT + 2 * (d.opId?.length ?? 0) + ((d.reply as Buffer | undefined)?.length ?? 0);
  return size;
}

let recordType: protobuf.Type | undefined;

function type(): protobuf.Type {
  if (recordType === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${PROTO_DIR}${target}`);
    root.loadSync('baton/v1/peer.proto', { keepCase: false });
    recordType = root.lookupType('baton.v1.SessionRecord');
  }
  return recordType;
}

/** Binary encoding of a full record, as a snapshot stores it. */
export function encodeRecord(record: SessionRecord): Buffer {
  const t = type();
  return Buffer.from(t.encode(t.fromObject(toWire(record))).finish());
}

/** A protobufjs 64-bit field: a number, or a Long when the value needs it. */
type Int64 = number | { toNumber(): number };
const num = (v: Int64 | undefined | null): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

interface DecodedRecord {
  sessionId: string;
  sessionType: string;
  version: Int64;
  owner: string;
  epoch: Int64;
  schemaVersion: number;
  state: Uint8Array;
  timers: { timerId: string; deadlineMs: Int64; payload: Uint8Array }[];
  dedupe: { opId: string; version: Int64; reply: Uint8Array }[];
  createdAtMs: Int64;
  updatedAtMs: Int64;
}

/**
 * Decodes a snapshot record; throws on bytes that are not one. Reads the
 * decoded message directly (no toObject pass): this runs once per session
 * when a node bootstraps.
 */
export function decodeRecord(bytes: Uint8Array): SessionRecord {
  const m = type().decode(bytes) as unknown as DecodedRecord;
  if (m.sessionId === '' || m.sessionType === '' || m.owner === '') {
    throw new Error('record lacks a session id, type or owner');
  }
  return {
    sessionId: m.sessionId,
    sessionType: m.sessionType,
    version: num(m.version),
    schemaVersion: m.schemaVersion,
    owner: m.owner,
    epoch: num(m.epoch),
    state: ownedBytes(m.state),
    timers: m.timers.map((t) => ({ timerId: t.timerId, deadlineMs: num(t.deadlineMs), payload: ownedBytes(t.payload) })),
    dedupe: m.dedupe.map((d) => ({ opId: d.opId, version: num(d.version), reply: d.reply.length === 0 ? EMPTY_BYTES : ownedBytes(d.reply) })),
    createdAtMs: num(m.createdAtMs),
    updatedAtMs: num(m.updatedAtMs),
  };
}
