import type { SessionRecord as WireRecord } from '../generated/baton/v1/SessionRecord.js';
import { EMPTY_BYTES, ownedEncoded, ownedSlice } from '../sessions/owned-bytes.js';
import { dedupeEntry, fromByteString, NO_OPERATIONS, NO_TIMERS } from '../sessions/session-record.js';
import type { DedupeEntry, SessionRecord, TimerEntry } from '../sessions/session-record.js';
import { LENGTH_DELIMITED, VARINT, WireReader } from '../rpc/wire-reader.js';
import type { FieldTable } from '../rpc/wire-reader.js';
import { delimitedSize, Measured, varintFieldSize, varintSize, writeBytesField, writeBytesOrByteString, writeDelimitedHead, writeStringField, writeVarintField } from '../rpc/wire-writer.js';

/**
 * Conversions between the in-memory SessionRecord and its wire form
 * (baton.v1.SessionRecord), which is also what a Redis snapshot stores.
 */

/** A dedupe entry in its wire shape: the reply as bytes. */
export interface WireDedupe {
  readonly opId: string;
  readonly version: number;
  readonly reply: Buffer;
}

/** A dedupe entry of a delta: the reply as bytes or as a byte string. */
export interface DeltaDedupe {
  readonly opId: string;
  readonly version: number;
  readonly reply: string | Uint8Array;
}

/** How a record is written for replication instead of a snapshot (toWire, encodeRecord). */
export interface RecordEncoding {
  /** Write only these dedupe entries (a delta), with dedupe_complete false. */
  readonly dedupeDelta?: readonly DeltaDedupe[];
  /** The session was closed: its state is never read again, so none is written. */
  readonly deleted?: boolean;
  /** The replication offset (field 12); a snapshot has none. */
  readonly offset?: number;
}

/** Dedupe entries with their replies as bytes, for the wire. */
function wireWindow(window: readonly DeltaDedupe[]): WireDedupe[] {
  const out = new Array<WireDedupe>(window.length);
  for (let i = 0; i < window.length; i++) {
    const d = window[i] as DeltaDedupe;
    const reply = typeof d.reply === 'string' ? fromByteString(d.reply) : Buffer.from(d.reply.buffer, d.reply.byteOffset, d.reply.length);
    out[i] = { opId: d.opId, version: d.version, reply };
  }
  return out;
}

/** The dedupe entries encoded: the change's delta when given, else the whole window (then marked complete). */
const dedupeOf = (record: SessionRecord, how: RecordEncoding): readonly DeltaDedupe[] => how.dedupeDelta ?? record.dedupe;

/**
 * The wire form of a record as objects, for messages protobufjs encodes
 * (ListRecords' answer); replication and snapshots write encodeRecord's
 * bytes instead. Timer arrays are replaced, never changed in place, so
 * they are shared as they are; a whole window has its replies turned back
 * into bytes.
 */
export function toWire(record: SessionRecord, how: RecordEncoding = {}): WireRecord {
  return {
    sessionId: record.sessionId,
    sessionType: record.sessionType,
    version: record.version,
    owner: record.owner,
    epoch: record.epoch,
    schemaVersion: record.schemaVersion,
    state: how.deleted === true ? EMPTY_BYTES : ownedEncoded(record.state, 'latin1'),
    timers: record.timers as TimerEntry[],
    dedupe: wireWindow(dedupeOf(record, how)),
    dedupeComplete: how.dedupeDelta === undefined,
    deleted: how.deleted === true,
    offset: how.offset ?? 0,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
  };
}

/** measureRecord's measurements, read back in order by writeRecord: the UTF-8 lengths of the session id, type and owner, then per timer and per dedupe entry its message's size and its id's UTF-8 length. */
const measured = new Measured();

/** Measures a TimerRecord or DedupeRecord (an id, a number, bytes); returns its bytes as a field. */
function nestedSize(id: string, number: number, bytes: number): number {
  const at = measured.reserve();
  const inner = delimitedSize(measured.add(Buffer.byteLength(id, 'utf8'))) + varintFieldSize(number) + delimitedSize(bytes);
  return 1 + varintSize(measured.set(at, inner)) + inner;
}

/** Key and length of the next nested message nestedSize measured, then its id field; returns the position after them. */
function openNested(buf: Buffer, pos: number, field: number, id: string): number {
  pos = writeDelimitedHead(buf, pos, field, measured.next());
  return writeStringField(buf, pos, 1, id, measured.next(), 'utf8');
}

/**
 * Binary encoding of a record: the baton.v1.SessionRecord wire format,
 * written directly (sizes first, then one buffer) with fields at their
 * defaults left out, as proto3 does. Without `how`, the full record as a
 * snapshot stores it (whole dedupe window, dedupe_complete true); with it,
 * a change as the replication log keeps and ships it. A snapshot flush
 * encodes every changed session once a second, and the owner every change
 * it replicates, so this is on the owner's event loop often: protobufjs
 * went through fromObject (a second copy of the record), a Buffer per reply
 * of the window and a fork per nested message.
 */
export function encodeRecord(record: SessionRecord, how: RecordEncoding = {}): Buffer {
  const size = measureRecord(record, how);
  const buf = Buffer.allocUnsafe(size);
  writeRecord(buf, 0, record, how, size);
  return buf;
}

/** The record's state as encoded: none for a deleted one. */
const stateOf = (record: SessionRecord, how: RecordEncoding): string => (how.deleted === true ? '' : record.state);

/**
 * Bytes of `record` encoded as encodeRecord does. Its measurements are kept
 * for the writeRecord call that must follow, with the same arguments,
 * before anything else is measured: so a caller can write the record
 * straight into memory it already has (the replication backlog's store).
 */
export function measureRecord(record: SessionRecord, how: RecordEncoding = {}): number {
  const state = stateOf(record, how);
  measured.reset();
  let size =
    delimitedSize(measured.add(Buffer.byteLength(record.sessionId, 'utf8'))) +
    delimitedSize(measured.add(Buffer.byteLength(record.sessionType, 'utf8'))) +
    varintFieldSize(record.version) +
    delimitedSize(measured.add(Buffer.byteLength(record.owner, 'utf8'))) +
    varintFieldSize(record.epoch) +
    varintFieldSize(record.schemaVersion) +
    delimitedSize(state.length) +
    (how.dedupeDelta === undefined ? 2 : 0) + // dedupe_complete = true
    (how.deleted === true ? 2 : 0) +
    varintFieldSize(how.offset ?? 0) +
    varintFieldSize(record.createdAtMs) +
    varintFieldSize(record.updatedAtMs);
  for (const t of record.timers) size += nestedSize(t.timerId, t.deadlineMs, t.payload.length);
  for (const d of dedupeOf(record, how)) size += nestedSize(d.opId, d.version, d.reply.length);
  return size;
}

/**
 * Writes what measureRecord just measured (`size` bytes) at `pos` of `buf`;
 * returns the position after it.
 */
export function writeRecord(buf: Buffer, pos: number, record: SessionRecord, how: RecordEncoding, size: number): number {
  const start = pos;
  const state = stateOf(record, how);
  pos = writeStringField(buf, pos, 1, record.sessionId, measured.next(), 'utf8');
  pos = writeStringField(buf, pos, 2, record.sessionType, measured.next(), 'utf8');
  pos = writeVarintField(buf, pos, 3, record.version);
  pos = writeStringField(buf, pos, 4, record.owner, measured.next(), 'utf8');
  pos = writeVarintField(buf, pos, 5, record.epoch);
  pos = writeVarintField(buf, pos, 6, record.schemaVersion);
  pos = writeStringField(buf, pos, 7, state, state.length, 'latin1');
  for (const t of record.timers) {
    pos = openNested(buf, pos, 8, t.timerId);
    pos = writeVarintField(buf, pos, 2, t.deadlineMs);
    pos = writeBytesField(buf, pos, 3, t.payload);
  }
  for (const d of dedupeOf(record, how)) {
    pos = openNested(buf, pos, 9, d.opId);
    pos = writeVarintField(buf, pos, 2, d.version);
    pos = writeBytesOrByteString(buf, pos, 3, d.reply);
  }
  if (how.dedupeDelta === undefined) pos = writeVarintField(buf, pos, 10, 1);
  if (how.deleted === true) pos = writeVarintField(buf, pos, 11, 1);
  pos = writeVarintField(buf, pos, 12, how.offset ?? 0);
  pos = writeVarintField(buf, pos, 13, record.createdAtMs);
  pos = writeVarintField(buf, pos, 14, record.updatedAtMs);
  if (pos - start !== size) throw new Error(`writeRecord wrote ${pos - start} bytes of ${size} for session "${record.sessionId}"`);
  return pos;
}

/**
 * An encoded record (encodeRecord's bytes, without an offset: a snapshot's,
 * a packed session's) with the replication `offset` added: written as one
 * more field at the end, which protobuf readers take as they take fields in
 * any order. A copy of the bytes, never a decode.
 */
export function withOffset(encoded: Buffer, offset: number | undefined): Buffer {
  if (offset === undefined || offset === 0) return encoded;
  const out = Buffer.allocUnsafe(encoded.length + varintFieldSize(offset));
  encoded.copy(out, 0);
  const end = writeVarintField(out, encoded.length, 12, offset);
  if (end !== out.length) throw new Error(`withOffset wrote ${end} bytes of ${out.length}`);
  return out;
}

const RECORD_FIELDS: FieldTable = [
  undefined,
  ['session_id', LENGTH_DELIMITED],
  ['session_type', LENGTH_DELIMITED],
  ['version', VARINT],
  ['owner', LENGTH_DELIMITED],
  ['epoch', VARINT],
  ['schema_version', VARINT],
  ['state', LENGTH_DELIMITED],
  ['timers', LENGTH_DELIMITED],
  ['dedupe', LENGTH_DELIMITED],
  // Replication only: a snapshot's record has none of them, a change's may.
  ['dedupe_complete', VARINT],
  ['deleted', VARINT],
  ['offset', VARINT],
  ['created_at_ms', VARINT],
  ['updated_at_ms', VARINT],
];
// TimerRecord and DedupeRecord share one layout: an id, a number, bytes.
const TIMER_FIELDS: FieldTable = [undefined, ['timer_id', LENGTH_DELIMITED], ['deadline_ms', VARINT], ['payload', LENGTH_DELIMITED]];
const DEDUPE_FIELDS: FieldTable = [undefined, ['op_id', LENGTH_DELIMITED], ['version', VARINT], ['reply', LENGTH_DELIMITED]];

/**
 * Strings that repeat across every record of a snapshot (session types,
 * owner node ids): one string each instead of one per record, found by
 * comparing bytes, not by decoding them.
 */
class RepeatedStrings {
  private readonly bytes: Buffer[] = [];
  private readonly strings: string[] = [];

  constructor(private readonly capacity: number) {}

  read(reader: WireReader): string {
    const end = reader.delimitedEnd();
    const { buf, pos } = reader;
    const length = end - pos;
    reader.pos = end;
    search: for (let i = 0; i < this.bytes.length; i++) {
      const known = this.bytes[i] as Buffer;
      if (known.length !== length) continue;
      for (let j = 0; j < length; j++) if (known[j] !== buf[pos + j]) continue search;
      return this.strings[i] as string;
    }
    const text = buf.toString('utf8', pos, end);
    if (this.bytes.length < this.capacity) {
      this.bytes.push(ownedSlice(buf, pos, end));
      this.strings.push(text);
    }
    return text;
  }
}

const sessionTypes = new RepeatedStrings(64);
const owners = new RepeatedStrings(8);
/** decodeRecord's reader: decoding is synchronous, one record at a time. */
const reader = new WireReader('baton.v1.SessionRecord');

/**
 * The timers and dedupe entries of the record being decoded, copied at their
 * exact length once all are read.
 */
const scratch = { dedupe: [] as DedupeEntry[], timers: [] as TimerEntry[] };

/** The replication-only fields of the record readRecord read last. */
const replicated = { dedupeComplete: false, deleted: false, offset: 0 };

/** The last nested message readNested() read: its id, its number, where its bytes are. */
const nested = { id: '', number: 0, start: 0, end: 0 };

/**
 * Reads a TimerRecord or a DedupeRecord into `nested`. `keep` false only
 * checks it, keeping nothing (scanRecord); `signed`: the number is an
 * int64 (a deadline), not a uint64.
 */
function readNested(reader: WireReader, fields: FieldTable, keep: boolean, signed: boolean): void {
  const outer = reader.enter();
  nested.id = '';
  nested.number = 0;
  nested.start = nested.end = 0;
  while (reader.pos < reader.end) {
    const field = reader.field(fields);
    if (keep && field === 1) nested.id = reader.string();
    else if (keep && field === 2) nested.number = reader.int64(signed);
    else if (keep && field === 3) {
      nested.start = reader.skipDelimited();
      nested.end = reader.pos;
    } else reader.skip(reader.wireType);
  }
  reader.leave(outer);
}

function readTimer(reader: WireReader): TimerEntry {
  readNested(reader, TIMER_FIELDS, true, true);
  const { id, number, start, end } = nested;
  return { timerId: id, deadlineMs: number, payload: end === start ? EMPTY_BYTES : ownedSlice(reader.buf, start, end) };
}

/** Reads one DedupeRecord; the reply becomes a byte string (see DedupeEntry). */
function readDedupe(reader: WireReader): DedupeEntry {
  readNested(reader, DEDUPE_FIELDS, true, false);
  const { id, number, start, end } = nested;
  return dedupeEntry(id, number, reader.buf.toString('latin1', start, end));
}

/** What scanRecord finds in a record; one object, overwritten by each call. */
export interface RecordHead {
  sessionId: string;
  /** Shared with every record of the same owner (see RepeatedStrings). */
  owner: string;
  version: number;
  timers: number;
}

const head: RecordHead = { sessionId: '', owner: '', version: 0, timers: 0 };

/**
 * Checks that `bytes` are a record decodeRecord accepts, without decoding
 * it: it throws exactly where decodeRecord would, and otherwise returns the
 * session id, owner, version and timer count. It allocates the id and
 * nothing else, so a bootstrap can keep each record as its bytes (see
 * packed-record.ts) and leave the collector nothing to trace but them.
 * The returned object is reused by the next call.
 */
export function scanRecord(bytes: Buffer): RecordHead {
  reader.reset(bytes);
  head.sessionId = head.owner = '';
  head.version = head.timers = 0;
  let typeLength = 0;
  try {
    while (reader.pos < reader.end) {
      const field = reader.field(RECORD_FIELDS);
      if (field === 1) head.sessionId = reader.string();
      else if (field === 2) {
        const start = reader.skipDelimited();
        typeLength = reader.pos - start;
      } else if (field === 3) head.version = reader.int64(false);
      else if (field === 4) head.owner = owners.read(reader);
      else if (field === 8 || field === 9) {
        if (field === 8) head.timers++;
        readNested(reader, field === 8 ? TIMER_FIELDS : DEDUPE_FIELDS, false, false);
      } else reader.skip(reader.wireType);
    }
    if (head.sessionId === '' || typeLength === 0 || head.owner === '') {
      throw new Error('record lacks a session id, type or owner');
    }
    return head;
  } finally {
    reader.reset(EMPTY_BYTES);
  }
}

/**
 * Decodes a snapshot record; throws on bytes that are not one. This runs
 * once per session when a node bootstraps, so it reads the wire format
 * directly instead of through protobufjs: 64-bit fields become numbers
 * without Long objects, session types and owners are shared strings, and
 * the bytes the record keeps are copied once out of `bytes` (usually a
 * slice of a large Redis reply): the state and the dedupe replies into
 * byte strings (see SessionRecord.state and DedupeEntry).
 */
export function decodeRecord(bytes: Uint8Array): SessionRecord {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return readRecord(buf);
  } finally {
    forgetRecord();
  }
}

/** A record as the replication stream carries it: the record and the fields only replication sets. */
export interface ReceivedRecord {
  readonly record: SessionRecord;
  /** False: `record.dedupe` holds only the change's new entries, to merge into the window held. */
  readonly dedupeComplete: boolean;
  /** The session was closed; `record` is its last version, without state. */
  readonly deleted: boolean;
  /** Its replication offset (0 in a handback). */
  readonly offset: number;
}

/**
 * Decodes a record as Replicate and Handback carry it (encodeRecord's bytes
 * with or without `how`), as decodeRecord does, with its replication fields.
 * The replica runs this for every change it receives: protobufjs's decode
 * made a Long per 64-bit field and an object tree that toObject then copied
 * (about 5 KB allocated per change).
 */
export function decodeReceived(bytes: Buffer): ReceivedRecord {
  try {
    const record = readRecord(bytes);
    return { record, dedupeComplete: replicated.dedupeComplete, deleted: replicated.deleted, offset: replicated.offset };
  } finally {
    forgetRecord();
  }
}

/** Holds nothing of the last record between calls. */
function forgetRecord(): void {
  reader.reset(EMPTY_BYTES);
  scratch.dedupe.length = 0;
  scratch.timers.length = 0;
}

function readRecord(buf: Buffer): SessionRecord {
  reader.reset(buf);
  let sessionId = '';
  let sessionType = '';
  let owner = '';
  let version = 0;
  let epoch = 0;
  let schemaVersion = 0;
  let stateStart = 0;
  let stateEnd = 0;
  let createdAtMs = 0;
  let updatedAtMs = 0;
  const { dedupe, timers } = scratch;
  replicated.dedupeComplete = replicated.deleted = false;
  replicated.offset = 0;
  while (reader.pos < reader.end) {
    switch (reader.field(RECORD_FIELDS)) {
      case 1:
        sessionId = reader.string();
        break;
      case 2:
        sessionType = sessionTypes.read(reader);
        break;
      case 3:
        version = reader.int64(false);
        break;
      case 4:
        owner = owners.read(reader);
        break;
      case 5:
        epoch = reader.int64(false);
        break;
      case 6:
        schemaVersion = reader.uint32();
        break;
      case 7:
        stateStart = reader.skipDelimited();
        stateEnd = reader.pos;
        break;
      case 8:
        timers.push(readTimer(reader));
        break;
      case 9:
        dedupe.push(readDedupe(reader));
        break;
      case 10:
        replicated.dedupeComplete = reader.int64(false) !== 0;
        break;
      case 11:
        replicated.deleted = reader.int64(false) !== 0;
        break;
      case 12:
        replicated.offset = reader.int64(false);
        break;
      case 13:
        createdAtMs = reader.int64(true);
        break;
      case 14:
        updatedAtMs = reader.int64(true);
        break;
      default:
        // Fields a later release added: skipped, as protobuf decoders do.
        reader.skip(reader.wireType);
    }
  }
  if (sessionId === '' || sessionType === '' || owner === '') {
    throw new Error('record lacks a session id, type or owner');
  }
  return {
    sessionId,
    sessionType,
    version,
    schemaVersion,
    owner,
    epoch,
    state: stateEnd === stateStart ? '' : buf.toString('latin1', stateStart, stateEnd),
    timers: timers.length === 0 ? NO_TIMERS : timers.slice(),
    dedupe: dedupe.length === 0 ? NO_OPERATIONS : dedupe.slice(),
    createdAtMs,
    updatedAtMs,
  };
}
