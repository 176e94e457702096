import { credentials, status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { PeerServiceClient } from '../generated/baton/v1/PeerService.js';
import type { RecordBatch__Output } from '../generated/baton/v1/RecordBatch.js';
import type { ReplicaMessage } from '../generated/baton/v1/ReplicaMessage.js';
import type { SourceMessage__Output } from '../generated/baton/v1/SourceMessage.js';
import type { Welcome__Output } from '../generated/baton/v1/Welcome.js';
import { loadBatonProto } from '../rpc/proto-loader.js';
import { fromServiceError } from '../rpc/status-mapper.js';
import type { SessionEngine } from '../sessions/session-engine.js';
import { BatchWriter } from '../rpc/batch-writer.js';
import type { LoadedRecord } from '../snapshots/snapshot-store.js';
import { checkPeer } from './peer-identity.js';
import type { PeerIdentity } from './peer-identity.js';
import { receivedBatch } from './encoded-batch.js';

export type UpstreamState = 'none' | 'connecting' | 'loading' | 'streaming' | 'refused';
export type ResyncPath = '' | 'partial' | 'full-redis' | 'full-stream';

/** Loads the peer's sessions from the newest Redis snapshot. */
export type SnapshotLoader = (owner: string) => Promise<{ records: LoadedRecord[]; watermark: { replicationId: string; offset: number } | undefined }>;

export interface ReplicaLinkOptions {
  readonly identity: PeerIdentity;
  /** The peer's control address (it serves PeerService there). */
  readonly peerAddress: string;
  readonly heartbeatMs: number;
  readonly peerTimeoutMs: number;
}

export interface UpstreamInfo {
  readonly state: UpstreamState;
  readonly replicationId: string;
  readonly offset: number;
  readonly peerOffset: number;
  readonly path: ResyncPath;
  readonly lastError: string;
  readonly peer: PeerIdentity | undefined;
  readonly protocolVersion: number;
  readonly lastHeardAtMs: number;
}

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1_000;
/** A refused handshake is retried slowly: it needs an operator's fix. */
const REFUSED_RETRY_MS = 3_000;

/** Creates a PeerService client for `address`. */
export function peerClient(address: string): PeerServiceClient {
  const proto = loadBatonProto();
  return new proto.baton.v1.PeerService(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
}

/**
 * This node as a replica of the peer's sessions: dials the peer's
 * PeerService, resumes from its offset or resyncs, stores records without
 * running handler code, and acknowledges offsets. Reconnects forever.
 */
export class ReplicaLink {
  private info: UpstreamInfo;
  private readonly client: PeerServiceClient;
  private call: ClientDuplexStream<ReplicaMessage, SourceMessage__Output> | undefined;
  private stopped = false;
  private backoffMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Stops the current call's heartbeat and forgets the call. */
  private detach: (() => void) | undefined;
  private fullCopySeen: Set<string> | undefined;
  private readonly peerListeners = new Set<(peer: PeerIdentity) => void>();
  /** Per stream, its acks (see ack()). */
  private readonly acks = new WeakMap<object, BatchWriter<number>>();

  constructor(
    private readonly options: ReplicaLinkOptions,
    private readonly engine: SessionEngine,
    private readonly loadSnapshot: SnapshotLoader | undefined,
    private readonly logger: Logger,
    start: { replicationId: string; offset: number } | undefined,
  ) {
    this.client = peerClient(options.peerAddress);
    this.info = {
      state: 'none',
      replicationId: start?.replicationId ?? '',
      offset: start?.offset ?? 0,
      peerOffset: 0,
      path: '',
      lastError: '',
      peer: undefined,
      protocolVersion: 0,
      lastHeardAtMs: 0,
    };
  }

  get upstream(): UpstreamInfo {
    return this.info;
  }

  /** Called with the peer's identity each time a handshake succeeds. */
  onPeer(listener: (peer: PeerIdentity) => void): void {
    this.peerListeners.add(listener);
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const call = this.call;
    this.detach?.();
    call?.cancel();
    this.client.close();
  }

  private update(patch: Partial<UpstreamInfo>): void {
    this.info = { ...this.info, ...patch };
  }

  private connect(): void {
    if (this.stopped) return;
    this.update({ state: 'connecting' });
    const id = this.options.identity;
    const call = this.client.Replicate();
    this.call = call;
    // What is asked for is an ack of the offset held when it is written.
    this.acks.set(call, new BatchWriter<number>((_, written) => call.write({ ack: { offset: this.info.offset, sentAtMs: Date.now() } }, written)));
    let lastHeard = Date.now();
    let welcomed = false;
    let finished = false;
    // Each call has its own heartbeat; only the current call may reconnect.
    let heartbeat: NodeJS.Timeout | undefined;
    const detach = (): void => {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
      if (this.call === call) {
        this.call = undefined;
        this.detach = undefined;
      }
    };
    this.detach = detach;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      const current = this.call === call;
      detach();
      // A superseded or detached call ends quietly: someone else is in charge.
      if (!current || this.stopped) return;
      const remote = err === undefined ? undefined : fromServiceError(err as ServiceError, this.options.peerAddress);
      if (remote !== undefined && remote.grpcCode === status.FAILED_PRECONDITION) {
        this.logger.error({ peer: this.options.peerAddress, reason: remote.message }, 'the peer refused replication');
        this.update({ state: 'refused', lastError: remote.message });
        this.retryTimer = setTimeout(() => this.connect(), REFUSED_RETRY_MS);
        return;
      }
      this.update({ state: 'connecting', lastError: remote?.message ?? 'stream ended' });
      if (welcomed) this.logger.warn({ peer: this.options.peerAddress, reason: remote?.message ?? 'stream ended' }, 'replication from the peer interrupted; reconnecting');
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    };
    call.on('error', (err: ServiceError) => finish(err));
    call.on('end', () => finish(undefined));
    call.on('data', (message: SourceMessage__Output) => {
      lastHeard = Date.now();
      try {
        if (message.welcome) {
          welcomed = true;
          this.onWelcome(call, message.welcome);
        } else if (message.batch) {
          this.onBatch(call, message.batch);
        } else if (message.heartbeat) {
          this.update({ peerOffset: message.heartbeat.offset, lastHeardAtMs: lastHeard });
          this.ack(call);
        }
      } catch (err) {
        this.logger.error({ err }, 'replication message could not be applied; reconnecting');
        call.cancel();
      }
    });
    call.write({
      hello: {
        cluster: id.cluster,
        nodeId: id.nodeId,
        release: id.release,
        protocolMin: id.protocol.min,
        protocolMax: id.protocol.max,
        replicationId: this.info.replicationId,
        offset: this.info.offset,
        sessionAddress: id.sessionAddress,
        role: id.role,
      },
    });
    heartbeat = setInterval(() => {
      if (Date.now() - lastHeard > this.options.peerTimeoutMs) {
        this.logger.warn({ peer: this.options.peerAddress }, `peer silent for more than ${this.options.peerTimeoutMs} ms; reconnecting`);
        call.cancel();
        return;
      }
      if (welcomed) this.ack(call);
    }, this.options.heartbeatMs);
  }

  /**
   * Acks the offset held now, through the stream's BatchWriter: one ack in
   * flight at a time, and the acks asked for meanwhile go as one, with the
   * newest offset, when it completes. grpc-js writes one message per write
   * callback, a loop turn apart, and acks queued one per batch would reach
   * the owner later and later while this node is busy (every sync answer
   * waits for them).
   */
  private ack(call: ClientDuplexStream<ReplicaMessage, SourceMessage__Output>): void {
    this.acks.get(call)?.add(this.info.offset, 0);
  }

  private onWelcome(call: ClientDuplexStream<ReplicaMessage, SourceMessage__Output>, w: Welcome__Output): void {
    const peer: PeerIdentity = {
      cluster: this.options.identity.cluster,
      nodeId: w.nodeId,
      release: w.release,
      role: w.role === 'primary' ? 'primary' : 'secondary',
      protocol: { min: w.protocolVersion, max: w.protocolVersion },
      sessionAddress: w.sessionAddress,
    };
    checkPeer(this.options.identity, peer);
    for (const listener of this.peerListeners) listener(peer);
    this.backoffMs = RECONNECT_MIN_MS;
    this.update({ peer, protocolVersion: w.protocolVersion, lastError: '', peerOffset: w.offset, lastHeardAtMs: Date.now() });
    if (w.mode === 'PARTIAL') {
      this.update({ state: 'streaming', path: this.info.path === '' ? 'partial' : this.info.path, replicationId: w.replicationId });
      this.logger.info({ peer: w.nodeId, offset: w.offset, path: 'partial' }, 'replicating the peer: resumed from the backlog (partial resync)');
      this.ack(call);
    } else if (w.mode === 'FULL_REDIS') {
      // The owner ends this call; the load reconnects when it is done.
      this.detach?.();
      this.update({ state: 'loading' });
      void this.loadFromRedis(w.nodeId, w.replicationId, w.offset);
    } else {
      this.fullCopySeen = new Set();
      this.update({ state: 'loading', replicationId: w.replicationId, offset: w.offset, path: 'full-stream' });
      this.logger.info({ peer: w.nodeId, offset: w.offset, path: 'full-stream' }, 'replicating the peer: receiving a full copy (full resync)');
    }
  }

  private async loadFromRedis(owner: string, replicationId: string, offset: number): Promise<void> {
    try {
      if (this.loadSnapshot === undefined) throw new Error('this node has no Redis configured');
      const started = Date.now();
      const { records, watermark } = await this.loadSnapshot(owner);
      if (watermark === undefined || watermark.replicationId !== replicationId || watermark.offset < offset) {
        throw new Error(`the Redis snapshot does not reflect the peer's offset ${offset} yet`);
      }
      this.replaceOwnedBy(owner, records);
      this.update({ replicationId, offset: watermark.offset, path: 'full-redis', lastError: '' });
      this.logger.info(
        { peer: owner, records: records.length, offset: watermark.offset, ms: Date.now() - started, path: 'full-redis' },
        'replicating the peer: loaded its Redis snapshot (full resync)',
      );
    } catch (err) {
      this.logger.warn({ err }, 'could not load the peer\'s snapshot from Redis; will resync again');
      // Forget the position so the next handshake asks for a full copy.
      this.update({ replicationId: '', offset: 0, lastError: err instanceof Error ? err.message : String(err) });
    }
    if (this.stopped) return;
    this.update({ state: 'connecting' });
    this.retryTimer = setTimeout(() => this.connect(), 0);
  }

  private onBatch(call: ClientDuplexStream<ReplicaMessage, SourceMessage__Output>, batch: RecordBatch__Output): void {
    let offset = this.info.offset;
    const { records, fullSyncDone } = receivedBatch(batch);
    for (const received of records) {
      const { sessionId } = received.record;
      if (received.deleted) this.engine.remove(sessionId);
      else this.engine.install(received.record, received.dedupeComplete);
      this.fullCopySeen?.add(sessionId);
      if (received.offset > offset) offset = received.offset;
    }
    if (fullSyncDone && this.fullCopySeen !== undefined && this.info.peer !== undefined) {
      // Sessions of the peer that were not in the full copy are gone there.
      for (const id of this.engine.idsOwnedBy(this.info.peer.nodeId)) {
        if (!this.fullCopySeen.has(id)) this.engine.remove(id);
      }
      this.fullCopySeen = undefined;
      this.update({ state: 'streaming' });
    }
    this.update({ offset, peerOffset: Math.max(this.info.peerOffset, offset), lastHeardAtMs: Date.now() });
    this.ack(call);
  }

  private replaceOwnedBy(owner: string, records: readonly LoadedRecord[]): void {
    const keep = new Set(records.map((r) => r.sessionId));
    for (const id of this.engine.idsOwnedBy(owner)) if (!keep.has(id)) this.engine.remove(id);
    for (const r of records) this.engine.installPacked(r.packed, r.sessionId, r.owner, r.timers);
  }
}
