import { status } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { PeerRefusedError } from '../errors.js';
import type { HandbackRequest__Output } from '../generated/baton/v1/HandbackRequest.js';
import type { Hello__Output } from '../generated/baton/v1/Hello.js';
import type { PeerServiceHandlers } from '../generated/baton/v1/PeerService.js';
import type { RecordBatch } from '../generated/baton/v1/RecordBatch.js';
import type { ReplicaMessage__Output } from '../generated/baton/v1/ReplicaMessage.js';
import type { SourceMessage } from '../generated/baton/v1/SourceMessage.js';
import { toStatusObject } from '../rpc/status-mapper.js';
import type { PackedRecord } from '../sessions/packed-record.js';
import type { EngineEvent, SessionEngine } from '../sessions/session-engine.js';
import type { SessionRecord } from '../sessions/session-record.js';
import type { DurabilityGate } from './durability-gate.js';
import { checkPeer, checkTerms } from './peer-identity.js';
import type { PeerIdentity } from './peer-identity.js';
import { encodedBatch, encodedRecords } from './encoded-batch.js';
import { encodeRecord, withOffset } from './record-codec.js';
import type { ReplicationLog } from './replication-log.js';

/** Records per batch on the stream. */
const BATCH_RECORDS = 512;

/** A session in a copy: its record encoded, or a packed one's bytes, to get an offset when sent. */
type Copied = Buffer | { readonly packed: PackedRecord };

/**
 * A copy of held sessions as of now (see SessionEngine.heldBy), as they go
 * on the wire: record objects encoded at once, since they change in place;
 * packed ones as the bytes they are, since they never change (the same
 * encoding: a snapshot's), given their offset a batch at a time by
 * wireBatch(). Nothing is decoded, so a full copy or a handback of many idle
 * sessions costs a copy of their bytes.
 */
function copyNow(held: readonly (SessionRecord | PackedRecord)[], offset: number | undefined): Copied[] {
  return held.map((entry) => (Buffer.isBuffer(entry) ? { packed: entry } : encodeRecord(entry, { offset })));
}

function wireBatch(copy: readonly Copied[], offset: number | undefined): Buffer[] {
  return copy.map((entry) => (Buffer.isBuffer(entry) ? entry : withOffset(entry.packed, offset)));
}

/** How long the owner waits for the replica's Hello. */
const HELLO_TIMEOUT_MS = 5_000;

export interface SourceOptions {
  readonly identity: PeerIdentity;
  readonly heartbeatMs: number;
  readonly peerTimeoutMs: number;
}

/** Writes a fresh snapshot of every owned session; resolves with the offset it reflects. */
export type SnapshotForResync = () => Promise<number | undefined>;

/** The replica currently attached, as the owner sees it. */
export interface DownstreamInfo {
  readonly identity: PeerIdentity;
  readonly protocolVersion: number;
  ackedOffset: number;
  lastHeardAtMs: number;
  streaming: boolean;
}

type ReplicateCall = ServerDuplexStream<ReplicaMessage__Output, SourceMessage>;

/**
 * Writes a message and resolves once the stream took it (its write
 * callback), or the stream closed. grpc-js writes one message per write
 * callback, a turn of the event loop apart: a sender that waits for each
 * write sends what piled up meanwhile as one message, instead of queueing
 * messages that leave one per turn and fall further behind while the loop
 * is busy. It is also the backpressure of bulk copies: one batch is held in
 * memory at a time, however slow the replica reads.
 */
function writeAndWait<T>(call: ReplicateCall | ServerWritableStream<HandbackRequest__Output, RecordBatch>, message: T): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('close', done);
      call.off('error', done);
      resolve();
    };
    call.on('close', done);
    call.on('error', done);
    (call.write as (m: T, cb: () => void) => boolean)(message, done);
  });
}

/**
 * The owner's end of replication (PeerService): answers the replica's
 * handshake, picks partial or full resync, streams the log in batches and
 * feeds the replica's acks to the durability gate. Also serves Handback.
 */
export class ReplicationSource {
  private current: { call: ReplicateCall; info: DownstreamInfo; stop: (reason: string) => void } | undefined;

  constructor(
    private readonly options: SourceOptions,
    private readonly log: ReplicationLog<EngineEvent>,
    private readonly gate: DurabilityGate,
    private readonly engine: SessionEngine,
    private readonly snapshot: SnapshotForResync | undefined,
    private readonly logger: Logger,
    private readonly onPeer: (peer: PeerIdentity) => void = () => {},
  ) {}

  get downstream(): DownstreamInfo | undefined {
    return this.current?.info;
  }

  handlers(): PeerServiceHandlers {
    return {
      Replicate: (call) => {
        void this.replicate(call);
      },
      Handback: (call) => {
        void this.handback(call);
      },
    };
  }

  /** Ends the replication stream (node stopping). */
  close(): void {
    this.current?.stop('node stopping');
  }

  private async replicate(call: ReplicateCall): Promise<void> {
    let hello: Hello__Output;
    try {
      hello = await this.readHello(call);
    } catch (err) {
      call.emit('error', toStatusObject(err));
      return;
    }
    const theirs: PeerIdentity = {
      cluster: hello.cluster,
      nodeId: hello.nodeId,
      release: hello.release,
      role: hello.role === 'primary' ? 'primary' : 'secondary',
      protocol: { min: hello.protocolMin, max: hello.protocolMax },
      sessionAddress: hello.sessionAddress,
    };
    let protocolVersion: number;
    try {
      protocolVersion = checkPeer(this.options.identity, theirs);
    } catch (err) {
      this.logger.error({ peer: theirs.nodeId, err }, 'refused a replica');
      call.emit('error', toStatusObject(err));
      return;
    }
    this.onPeer(theirs);
    // The newest stream wins: a replica that reconnects replaces its old stream.
    this.current?.stop('replaced by a new replication stream');
    let stopped = false;
    const info: DownstreamInfo = { identity: theirs, protocolVersion, ackedOffset: hello.offset, lastHeardAtMs: Date.now(), streaming: false };
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => {};
    const stop = (reason: string): void => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      unsubscribe();
      if (this.current?.call === call) {
        this.current = undefined;
        this.gate.detach(reason);
        this.logger.warn({ peer: theirs.nodeId, reason }, 'replica detached: running solo');
      }
      call.emit('error', { code: status.UNAVAILABLE, details: `replication stream ended: ${reason}` });
    };
    this.current = { call, info, stop };
    call.on('data', (message: ReplicaMessage__Output) => {
      if (message.ack === null || message.ack === undefined) return;
      info.ackedOffset = message.ack.offset;
      info.lastHeardAtMs = Date.now();
      if (info.streaming) {
        if (!this.gate.replicaAttached) {
          this.gate.attach(message.ack.offset);
          this.logger.info({ peer: theirs.nodeId, offset: message.ack.offset }, 'replica caught up: sync replication attached');
        } else this.gate.onAck(message.ack.offset);
      }
    });
    call.on('cancelled', () => stop('replica cancelled the stream'));
    call.on('error', () => stop('stream error'));
    call.on('end', () => stop('replica ended the stream'));

    let cursor = hello.offset;
    const welcome = (m: 'PARTIAL' | 'FULL_REDIS' | 'FULL_STREAM', offset: number): SourceMessage => ({
      welcome: {
        protocolVersion,
        nodeId: this.options.identity.nodeId,
        release: this.options.identity.release,
        replicationId: this.log.replicationId,
        offset,
        mode: m,
        sessionAddress: this.options.identity.sessionAddress,
        epoch: this.engine.epoch,
        role: this.options.identity.role,
      },
    });
    if (this.log.canResume(hello.replicationId, hello.offset)) {
      call.write(welcome('PARTIAL', cursor));
      this.logger.info({ peer: theirs.nodeId, offset: cursor, path: 'partial' }, 'replica resumes from the backlog (partial resync)');
      this.gate.attach(hello.offset);
    } else {
      const watermark = this.snapshot === undefined ? undefined : await this.snapshot().catch((err: unknown) => {
        this.logger.warn({ err }, 'could not write a snapshot for a full resync; streaming the full copy instead');
        return undefined;
      });
      if (stopped) return;
      if (watermark !== undefined) {
        this.logger.info({ peer: theirs.nodeId, offset: watermark, path: 'full-redis' }, 'replica must load the Redis snapshot (full resync)');
        call.write(welcome('FULL_REDIS', watermark));
        call.end();
        stopped = true;
        if (this.current?.call === call) this.current = undefined;
        return;
      }
      // Full copy on the stream: every owned record as it is now, then the log.
      cursor = this.log.offset;
      const copy = copyNow(this.engine.heldBy(this.options.identity.nodeId), cursor);
      this.logger.info({ peer: theirs.nodeId, records: copy.length, offset: cursor, path: 'full-stream' }, 'streaming a full copy (full resync)');
      call.write(welcome('FULL_STREAM', cursor));
      for (let i = 0; i < copy.length && !stopped; i += BATCH_RECORDS) {
        await writeAndWait<SourceMessage>(call, encodedBatch(wireBatch(copy.slice(i, i + BATCH_RECORDS), cursor), Date.now()));
      }
      if (stopped) return;
      call.write({ batch: { records: [], fullSyncDone: true, sentAtMs: Date.now() } });
    }
    info.streaming = true;

    let pumping = false;
    const pump = async (): Promise<void> => {
      if (pumping || stopped) return;
      pumping = true;
      try {
        while (!stopped && cursor < this.log.offset) {
          if (cursor < this.log.firstResumableOffset) {
            stop(`the replica fell behind the backlog (at ${cursor}, backlog starts after ${this.log.firstResumableOffset}); it will resync`);
            return;
          }
          // Encoded as the log keeps them, offsets cursor + 1 onwards.
          const records = this.log.readAfter(cursor, BATCH_RECORDS);
          if (records.length === 0) break;
          cursor += records.length;
          // One batch in flight at a time: what is appended meanwhile leaves
          // as one batch when it completes (see writeAndWait).
          await writeAndWait<SourceMessage>(call, encodedBatch(records, Date.now()));
        }
      } finally {
        pumping = false;
      }
    };
    // A flush at the end of the tick carries every change made in it (a
    // whole ApplyBatch, say); while a batch is in flight, changes pile up
    // for the next one.
    let scheduled = false;
    unsubscribe = this.log.onAppend(() => {
      if (scheduled) return;
      scheduled = true;
      process.nextTick(() => {
        scheduled = false;
        void pump();
      });
    });
    void pump();
    timers.push(
      setInterval(() => {
        call.write({ heartbeat: { offset: this.log.offset, sentAtMs: Date.now() } });
        if (Date.now() - info.lastHeardAtMs > this.options.peerTimeoutMs) {
          stop(`replica silent for more than ${this.options.peerTimeoutMs} ms`);
        }
      }, this.options.heartbeatMs),
    );
  }

  private readHello(call: ReplicateCall): Promise<Hello__Output> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new PeerRefusedError(`no Hello within ${HELLO_TIMEOUT_MS} ms`)), HELLO_TIMEOUT_MS);
      call.once('data', (message: ReplicaMessage__Output) => {
        clearTimeout(timer);
        if (message.hello === null || message.hello === undefined) {
          reject(new PeerRefusedError('the first message of a replication stream must be a Hello'));
        } else resolve(message.hello);
      });
    });
  }

  private async handback(call: ServerWritableStream<HandbackRequest__Output, RecordBatch>): Promise<void> {
    const req = call.request;
    const ours = this.options.identity;
    try {
      checkTerms(ours, { cluster: req.cluster, nodeId: req.nodeId, release: 'unknown', protocol: { min: req.protocolMin, max: req.protocolMax } });
    } catch (err) {
      call.emit('error', toStatusObject(err));
      return;
    }
    const records = copyNow(this.engine.heldBy(req.nodeId), undefined);
    this.logger.info({ peer: req.nodeId, records: records.length }, 'handing back the peer\'s sessions');
    for (let i = 0; i < records.length; i += BATCH_RECORDS) {
      await writeAndWait<RecordBatch>(call, encodedRecords(wireBatch(records.slice(i, i + BATCH_RECORDS), undefined), Date.now()));
    }
    call.end();
  }
}
