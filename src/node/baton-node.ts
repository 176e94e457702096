import { EventEmitter } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NodeStatus } from '../generated/baton/v1/NodeStatus.js';
import type { RecordBatch__Output } from '../generated/baton/v1/RecordBatch.js';
import { PROTOCOL_MAX, PROTOCOL_MIN, RELEASE } from '../release.js';
import { DurabilityGate } from '../replication/durability-gate.js';
import type { PeerIdentity } from '../replication/peer-identity.js';
import { receivedBatch } from '../replication/encoded-batch.js';
import { EngineChangeEncoder } from '../replication/change-encoder.js';
import { toWire } from '../replication/record-codec.js';
import { peerClient, ReplicaLink } from '../replication/replica-link.js';
import { ReplicationLog } from '../replication/replication-log.js';
import { ReplicationSource } from '../replication/replication-source.js';
import { formatHostPort } from '../rpc/address.js';
import type { HostPort } from '../rpc/address.js';
import { ControlServiceImpl } from '../rpc/control-service.js';
import { loadBatonProto } from '../rpc/proto-loader.js';
import { APPLY_BATCH_BYTES } from '../rpc/batch-writer.js';
import { SessionServiceImpl } from '../rpc/session-service.js';
import { HandlerRegistry } from '../sessions/handler-registry.js';
import { SessionEngine } from '../sessions/session-engine.js';
import type { EngineEvent, Placement } from '../sessions/session-engine.js';
import { connectRedis, waitReady } from '../snapshots/redis-connection.js';
import { describeRedis, redisConfigured } from '../snapshots/redis-options.js';
import { SnapshotStore } from '../snapshots/snapshot-store.js';
import type { LoadedRecord, Watermark } from '../snapshots/snapshot-store.js';
import { SnapshotWriter } from '../snapshots/snapshot-writer.js';
import { IdlePacker } from '../sessions/idle-packer.js';
import { unpack } from '../sessions/packed-record.js';
import { LoopDelay } from '../observability/loop-delay.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import type { Server as HttpServer } from 'node:http';
import type { NodeOptions } from './node-options.js';
import type { NodeEvent, NodeState } from './node-state.js';

/** Room above the largest operation/state for the rest of a gRPC message. */
const MESSAGE_HEADROOM_BYTES = 64 * 1024;
/** How long a starting node waits for Redis before it starts without a snapshot. */
const REDIS_START_WAIT_MS = 3_000;

async function bind(server: Server, address: HostPort): Promise<HostPort> {
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatHostPort(address), ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  return { host: address.host, port };
}

async function shutdown(server: Server, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What a starting node learned from Redis. */
interface Bootstrap {
  readonly loaded: number;
  readonly corrupt: number;
  readonly ms: number;
  readonly peerWatermark: Watermark | undefined;
}

/**
 * One Baton node: a session engine behind the SessionService; with a peer,
 * the owner of its sessions' replication log and a replica of the peer's;
 * with Redis, snapshots and bootstrap. Emits NodeEvent on 'event'.
 */
export class BatonNode extends EventEmitter<{ event: [NodeEvent] }> {
  private currentState: NodeState = 'starting';
  private readonly sessionServer: Server;
  private readonly controlServer = new Server({ 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  private readonly sessionService: SessionServiceImpl;
  private readonly startedAtMs = Date.now();
  private stopping: Promise<void> | undefined;
  private boundSession: HostPort | undefined;
  private boundControl: HostPort | undefined;
  readonly log: ReplicationLog<EngineEvent>;
  readonly gate: DurabilityGate;
  private readonly identity: { -readonly [K in keyof PeerIdentity]: PeerIdentity[K] };
  private source: ReplicationSource | undefined;
  private link: ReplicaLink | undefined;
  private redis: Redis | undefined;
  private store: SnapshotStore | undefined;
  private writer: SnapshotWriter | undefined;
  private readonly packer: IdlePacker;
  private bootstrap: Bootstrap = { loaded: 0, corrupt: 0, ms: 0, peerWatermark: undefined };
  /** The peer as last seen on either replication stream. */
  private peer: { nodeId: string; sessionAddress: string } | undefined;
  private metrics: { server: HttpServer; address: string } | undefined;
  private readonly loopDelay = new LoopDelay();

  private constructor(
    readonly options: NodeOptions,
    readonly registry: HandlerRegistry,
    private readonly logger: Logger,
  ) {
    super();
    const placement: Placement = {
      newSessionsGoTo: () =>
        options.role === 'primary' ? undefined : { nodeId: this.peer?.nodeId ?? 'the primary', address: this.peer?.sessionAddress },
      addressOf: (nodeId) => (nodeId === this.peer?.nodeId ? this.peer.sessionAddress : undefined),
    };
    this.engine = new SessionEngine(options, registry, logger.child({ component: 'engine' }), Date.now, placement);
    this.engine.pause('starting');
    this.packer = new IdlePacker(this.engine, options.packIdleMs);
    // Without a peer nothing can ever resume from the backlog: keep none.
    this.log = new ReplicationLog(options.peer === undefined ? 0 : options.backlogBytes, new EngineChangeEncoder());
    this.gate = new DurabilityGate(options.durability, options.minReplicas);
    this.engine.onEvent((event) => this.log.append(event));
    this.identity = {
      cluster: options.cluster,
      nodeId: options.nodeId,
      release: RELEASE,
      role: options.role,
      protocol: { min: PROTOCOL_MIN, max: PROTOCOL_MAX },
      sessionAddress: '',
    };
    // A batch of operations or answers may be APPLY_BATCH_BYTES on top of the largest single one.
    const messageLimit = Math.max(options.maxOperationBytes, options.maxStateBytes) + MESSAGE_HEADROOM_BYTES + APPLY_BATCH_BYTES;
    this.sessionServer = new Server({
      'grpc.max_receive_message_length': messageLimit,
      'grpc.max_send_message_length': messageLimit,
    });
    this.sessionService = new SessionServiceImpl(
      this.engine,
      registry,
      options.nodeId,
      logger.child({ component: 'sessions' }),
      { checkWritable: () => this.gate.checkWritable(), confirm: (done) => this.gate.confirm(this.log.offset, done) },
    );
  }

  readonly engine: SessionEngine;

  /**
   * Starts a node: loads handlers, binds its ports, bootstraps from the Redis
   * snapshot, takes back its own sessions' newest copies from the peer, and
   * only then serves and starts replicating.
   */
  static async start(options: NodeOptions, logger: Logger): Promise<BatonNode> {
    const registry = new HandlerRegistry();
    for (const spec of options.handlers) {
      const loaded = await registry.load(spec.sessionType, spec.path);
      logger.info({ sessionType: spec.sessionType, path: spec.path, schemaVersion: loaded.schemaVersion }, 'handler loaded');
    }
    const node = new BatonNode(options, registry, logger);
    try {
      await node.open();
    } catch (err) {
      await node.abort();
      throw err;
    }
    return node;
  }

  private async open(): Promise<void> {
    const { options, logger } = this;
    const proto = loadBatonProto();
    this.sessionServer.addService(proto.baton.v1.SessionService.service, this.sessionService.handlers());
    this.controlServer.addService(
      proto.baton.v1.ControlService.service,
      new ControlServiceImpl(() => this.status(), (owner) => this.listRecords(owner)).handlers(),
    );
    if (redisConfigured(options.redis)) await this.loadSnapshot();
    this.engine.epoch = Math.max(this.engine.epoch, 1);
    this.source = new ReplicationSource(
      { identity: this.identity, heartbeatMs: options.heartbeatMs, peerTimeoutMs: options.peerTimeoutMs },
      this.log,
      this.gate,
      this.engine,
      this.writer === undefined ? undefined : () => (this.writer as SnapshotWriter).flushAll(),
      logger.child({ component: 'replication' }),
      (peer) => {
        this.peer = { nodeId: peer.nodeId, sessionAddress: peer.sessionAddress };
      },
    );
    this.controlServer.addService(proto.baton.v1.PeerService.service, this.source.handlers());
    this.boundSession = await bind(this.sessionServer, options.listen);
    this.boundControl = await bind(this.controlServer, options.control);
    this.identity.sessionAddress = this.sessionAddress;
    if (options.metrics !== undefined) this.metrics = await startMetricsServer(options.metrics, () => this.status());
    if (options.peer !== undefined) await this.takeBackFromPeer(options.peer);
    this.writer?.start();
    this.packer.start();
    this.engine.start();
    this.engine.resume();
    if (options.peer !== undefined) {
      this.link = new ReplicaLink(
        { identity: this.identity, peerAddress: formatHostPort(options.peer), heartbeatMs: options.heartbeatMs, peerTimeoutMs: options.peerTimeoutMs },
        this.engine,
        this.store === undefined ? undefined : (owner) => this.loadPeerSnapshot(owner),
        logger.child({ component: 'replica' }),
        this.bootstrap.peerWatermark,
      );
      this.link.onPeer((peer) => {
        this.peer = { nodeId: peer.nodeId, sessionAddress: peer.sessionAddress };
      });
      this.link.start();
    }
    this.setState('serving', 'ports bound, snapshot loaded, sessions taken back');
    this.loopDelay.restart();
    logger.info(
      {
        sessionAddress: this.sessionAddress,
        controlAddress: this.controlAddress,
        release: RELEASE,
        role: options.role,
        cluster: options.cluster,
        durability: options.durability,
        sessions: this.engine.stats().sessions,
        ...(this.metrics === undefined ? {} : { metricsAddress: this.metrics.address }),
      },
      'node ready',
    );
  }

  private async loadSnapshot(): Promise<void> {
    const { options, logger } = this;
    const redis = connectRedis(options.redis);
    this.redis = redis;
    const store = new SnapshotStore(redis, options.cluster, logger.child({ component: 'snapshots' }));
    this.store = store;
    this.writer = new SnapshotWriter(
      { nodeId: options.nodeId, intervalMs: options.snapshotIntervalMs, dirtyMax: options.snapshotDirtyMax, batch: options.snapshotBatch },
      store,
      this.engine,
      this.log,
      logger.child({ component: 'snapshots' }),
    );
    if (!(await waitReady(redis, REDIS_START_WAIT_MS))) {
      logger.warn({ redis: describeRedis(options.redis) }, 'Redis unreachable at start: starting without a snapshot; snapshots begin when it is reachable');
      return;
    }
    const nodes = await store.register(options.nodeId);
    const started = Date.now();
    const snapshot = await store.load((r) => this.engine.installPacked(r.packed, r.sessionId, r.owner, r.timers));
    this.engine.epoch = Math.max(this.engine.epoch, snapshot.epoch);
    const peerMark = [...snapshot.watermarks.entries()].find(([owner]) => owner !== options.nodeId)?.[1];
    this.bootstrap = {
      loaded: snapshot.loaded,
      corrupt: snapshot.corrupt.length,
      ms: Date.now() - started,
      peerWatermark: peerMark,
    };
    logger.info(
      { redis: describeRedis(options.redis), nodes, records: snapshot.loaded, corrupt: snapshot.corrupt.length, epoch: this.engine.epoch, ms: this.bootstrap.ms },
      'bootstrapped from the Redis snapshot',
    );
  }

  private async loadPeerSnapshot(owner: string): Promise<{ records: LoadedRecord[]; watermark: Watermark | undefined }> {
    const records: LoadedRecord[] = [];
    const snapshot = await (this.store as SnapshotStore).load((r) => {
      if (r.owner === owner) records.push(r);
    });
    return { records, watermark: snapshot.watermarks.get(owner) };
  }

  /**
   * The peer may hold newer copies of this node's sessions than Redis (it
   * replicated them after the last snapshot): take them back before serving.
   */
  private async takeBackFromPeer(peer: HostPort): Promise<void> {
    const { options, logger } = this;
    if (options.bootstrapPeerWaitMs === 0) return;
    const client = peerClient(formatHostPort(peer));
    const deadline = Date.now() + options.bootstrapPeerWaitMs;
    try {
      for (;;) {
        try {
          const taken = await new Promise<number>((resolve, reject) => {
            let count = 0;
            const call = client.Handback(
              { cluster: options.cluster, nodeId: options.nodeId, protocolMin: PROTOCOL_MIN, protocolMax: PROTOCOL_MAX },
              { deadline },
            );
            call.on('data', (batch: RecordBatch__Output) => {
              for (const { record, dedupeComplete } of receivedBatch(batch).records) {
                if (this.engine.install(record, dedupeComplete)) {
                  count += 1;
                  // Newer than Redis: the next snapshot must write it.
                  this.writer?.markDirty(record.sessionId);
                }
              }
            });
            call.on('end', () => resolve(count));
            call.on('error', (err: ServiceError) => reject(err));
          });
          logger.info({ peer: formatHostPort(peer), sessions: taken }, 'took back the newest copies of this node\'s sessions from the peer');
          return;
        } catch (err) {
          const code = (err as ServiceError).code;
          if (code === 9 /* FAILED_PRECONDITION: refused */) {
            logger.error({ err }, 'the peer refused to hand back sessions');
            return;
          }
          if (Date.now() >= deadline) {
            logger.warn(
              { peer: formatHostPort(peer), waitedMs: options.bootstrapPeerWaitMs },
              'peer unreachable at start: serving from the Redis snapshot alone; changes acknowledged after it was written may be missing',
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.close();
    }
  }

  get state(): NodeState {
    return this.currentState;
  }

  get sessionAddress(): string {
    return this.boundSession === undefined ? '' : formatHostPort(this.boundSession);
  }

  get controlAddress(): string {
    return this.boundControl === undefined ? '' : formatHostPort(this.boundControl);
  }

  /**
   * Graceful stop: refuse new work, let in-flight operations be confirmed and
   * answered and clients half-close their streams, write a last snapshot,
   * then close the ports. Bounded by options.graceMs. Idempotent.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private listRecords(owner: string): ReturnType<typeof toWire>[] {
    // One owner's: only its packed sessions are decoded (their owner is read off their bytes).
    const records = owner === '' ? [...this.engine.records()] : this.engine.heldBy(owner).map((r) => (Buffer.isBuffer(r) ? unpack(r) : r));
    records.sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
    return records.map((r) => toWire(r));
  }

  status(): NodeStatus {
    const stats = this.engine.stats();
    const loopDelay = this.loopDelay.figures();
    const downstream = this.source?.downstream;
    const upstream = this.link?.upstream;
    const snapshot = this.writer?.status();
    const lag = downstream === undefined ? { records: 0, bytes: 0, ms: 0 } : this.log.lagAfter(downstream.ackedOffset);
    const solo = !this.gate.replicaAttached && (this.options.role === 'primary' || stats.sessionsOwned > 0);
    const warnings: string[] = [];
    if (solo) {
      warnings.push(
        this.options.minReplicas === 1
          ? 'no replica attached: writes are refused (--min-replicas 1)'
          : 'running solo: no replica attached, acknowledged changes live on this node only',
      );
    }
    if (snapshot !== undefined && !snapshot.connected) warnings.push('Redis unreachable: snapshots paused, serving continues');
    if (upstream?.state === 'refused') warnings.push(`the peer refused replication: ${upstream.lastError}`);
    if (this.bootstrap.corrupt > 0) warnings.push(`${this.bootstrap.corrupt} corrupt snapshot records were skipped at start`);
    const peerSeen = upstream?.peer ?? downstream?.identity;
    return {
      nodeId: this.options.nodeId,
      state: this.currentState,
      release: RELEASE,
      sessionAddress: this.sessionAddress,
      controlAddress: this.controlAddress,
      startedAtMs: this.startedAtMs,
      sessions: stats.sessions,
      pendingTimers: stats.pendingTimers,
      operationsApplied: stats.operationsApplied,
      operationsRefused: stats.operationsRefused,
      openStreams: this.sessionService.openStreams,
      handlers: this.registry.list().map((h) => ({
        sessionType: h.sessionType,
        schemaVersion: h.schemaVersion,
        path: h.path,
        contentType: h.codec.contentType,
      })),
      limits: {
        maxSessions: this.options.maxSessions,
        maxStateBytes: this.options.maxStateBytes,
        maxOperationBytes: this.options.maxOperationBytes,
        dedupeWindow: this.options.dedupeWindow,
      },
      pid: process.pid,
      protocolMin: PROTOCOL_MIN,
      protocolMax: PROTOCOL_MAX,
      role: this.options.role,
      cluster: this.options.cluster,
      sessionsOwned: stats.sessionsOwned,
      sessionsReplicated: stats.sessions - stats.sessionsOwned,
      sessionsPacked: stats.sessionsPacked,
      packedBytes: stats.packedStore.liveBytes,
      packedChunkBytes: stats.packedStore.chunkBytes,
      epoch: this.engine.epoch,
      replication: {
        durability: this.options.durability,
        minReplicas: this.options.minReplicas,
        replicationId: this.log.replicationId,
        offset: this.log.offset,
        backlogBytes: this.log.backlogSize,
        backlogFirstOffset: this.log.firstResumableOffset,
        replicaAttached: this.gate.replicaAttached,
        replicaAckedOffset: downstream?.ackedOffset ?? 0,
        lagRecords: lag.records,
        lagBytes: lag.bytes,
        lagMs: lag.ms,
        solo,
        upstreamState: upstream?.state ?? 'none',
        upstreamReplicationId: upstream?.replicationId ?? '',
        upstreamOffset: upstream?.offset ?? 0,
        resyncPath: upstream?.path ?? '',
        upstreamError: upstream?.lastError ?? '',
        upstreamLagRecords: upstream === undefined ? 0 : Math.max(0, upstream.peerOffset - upstream.offset),
        inSync: upstream !== undefined && upstream.state === 'streaming' && upstream.peerOffset <= upstream.offset,
      },
      snapshot: {
        configured: this.writer !== undefined,
        redisConnected: snapshot?.connected ?? false,
        ageMs: snapshot === undefined || snapshot.lastFlushAtMs === 0 ? -1 : Date.now() - snapshot.lastFlushAtMs,
        watermarkOffset: snapshot?.watermarkOffset ?? 0,
        dirtySessions: snapshot?.dirty ?? 0,
        flushes: snapshot?.flushes ?? 0,
        recordsWritten: snapshot?.recordsWritten ?? 0,
        corruptRecords: this.bootstrap.corrupt,
        lastError: snapshot?.lastError ?? '',
        refills: snapshot?.refills ?? 0,
        bootstrapLoaded: this.bootstrap.loaded,
        bootstrapMs: this.bootstrap.ms,
      },
      peer: {
        address: this.options.peer === undefined ? '' : formatHostPort(this.options.peer),
        connected: upstream?.state === 'streaming' || downstream?.streaming === true,
        nodeId: peerSeen?.nodeId ?? '',
        release: peerSeen?.release ?? '',
        protocolVersion: upstream?.protocolVersion ?? downstream?.protocolVersion ?? 0,
        lastHeardMsAgo: upstream === undefined || upstream.lastHeardAtMs === 0 ? -1 : Date.now() - upstream.lastHeardAtMs,
      },
      warnings,
      eventLoopDelayP99Ms: loopDelay.p99Ms,
      eventLoopDelayMaxMs: loopDelay.maxMs,
    };
  }

  private async doStop(reason: string): Promise<void> {
    const deadline = Date.now() + this.options.graceMs;
    this.setState('stopping', reason);
    this.engine.stopAccepting();
    this.packer.stop();
    await this.sessionService.closeStreams(this.options.graceMs);
    await this.writer?.stop();
    this.source?.close();
    this.link?.stop();
    await shutdown(this.sessionServer, Math.max(0, deadline - Date.now()));
    await shutdown(this.controlServer, 100);
    // Not QUIT: with Redis away it would wait, and reconnect attempts would
    // keep the process alive. The final flush above was the last write.
    this.redis?.disconnect();
    this.metrics?.server.close();
    this.loopDelay.stop();
    this.setState('stopped', reason);
  }

  /** Releases what a failed start acquired. */
  private async abort(): Promise<void> {
    this.packer.stop();
    this.link?.stop();
    this.sessionServer.forceShutdown();
    this.controlServer.forceShutdown();
    this.redis?.disconnect();
    this.metrics?.server.close();
    this.loopDelay.stop();
  }

  private setState(next: NodeState, reason: string): void {
    const from = this.currentState;
    if (from === next) return;
    this.currentState = next;
    this.logger.info({ from, to: next, reason }, `node state ${from} -> ${next}`);
    this.emit('event', { type: 'state', from, to: next, reason });
  }
}
