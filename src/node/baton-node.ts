import { EventEmitter } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { formatHostPort } from '../rpc/address.js';
import type { HostPort } from '../rpc/address.js';
import { ControlServiceImpl } from '../rpc/control-service.js';
import { loadBatonProto } from '../rpc/proto-loader.js';
import { SessionServiceImpl } from '../rpc/session-service.js';
import { PROTOCOL_MAX, PROTOCOL_MIN, RELEASE } from '../release.js';
import { HandlerRegistry } from '../sessions/handler-registry.js';
import { SessionEngine } from '../sessions/session-engine.js';
import type { NodeStatus } from '../generated/baton/v1/NodeStatus.js';
import type { NodeOptions } from './node-options.js';
import type { NodeEvent, NodeState } from './node-state.js';

/** Room above the largest operation/state for the rest of a gRPC message. */
const MESSAGE_HEADROOM_BYTES = 64 * 1024;

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

/**
 * One Baton node: a session engine behind the SessionService, plus the
 * ControlService for operators. Emits NodeEvent on 'event'.
 */
export class BatonNode extends EventEmitter<{ event: [NodeEvent] }> {
  private currentState: NodeState = 'starting';
  private readonly sessionServer: Server;
  private readonly controlServer = new Server();
  private readonly sessionService: SessionServiceImpl;
  private readonly startedAtMs = Date.now();
  private stopping: Promise<void> | undefined;
  private boundSession: HostPort | undefined;
  private boundControl: HostPort | undefined;

  private constructor(
    readonly options: NodeOptions,
    readonly registry: HandlerRegistry,
    readonly engine: SessionEngine,
    private readonly logger: Logger,
  ) {
    super();
    const messageLimit = Math.max(options.maxOperationBytes, options.maxStateBytes) + MESSAGE_HEADROOM_BYTES;
    this.sessionServer = new Server({
      'grpc.max_receive_message_length': messageLimit,
      'grpc.max_send_message_length': messageLimit,
    });
    this.sessionService = new SessionServiceImpl(engine, registry, options.nodeId, logger.child({ component: 'sessions' }));
  }

  /** Loads the handlers, binds both ports and starts serving. */
  static async start(options: NodeOptions, logger: Logger): Promise<BatonNode> {
    const registry = new HandlerRegistry();
    for (const spec of options.handlers) {
      const loaded = await registry.load(spec.sessionType, spec.path);
      logger.info({ sessionType: spec.sessionType, path: spec.path, schemaVersion: loaded.schemaVersion }, 'handler loaded');
    }
    const engine = new SessionEngine(options, registry, logger.child({ component: 'engine' }));
    const node = new BatonNode(options, registry, engine, logger);
    const proto = loadBatonProto();
    node.sessionServer.addService(proto.baton.v1.SessionService.service, node.sessionService.handlers());
    node.controlServer.addService(
      proto.baton.v1.ControlService.service,
      new ControlServiceImpl(() => node.status()).handlers(),
    );
    try {
      node.boundSession = await bind(node.sessionServer, options.listen);
      node.boundControl = await bind(node.controlServer, options.control);
    } catch (err) {
      node.sessionServer.forceShutdown();
      node.controlServer.forceShutdown();
      throw err;
    }
    engine.start();
    node.setState('serving', 'ports bound, handlers loaded');
    logger.info(
      { sessionAddress: node.sessionAddress, controlAddress: node.controlAddress, release: RELEASE },
      'node ready',
    );
    return node;
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
   * Graceful stop: refuse new work, let in-flight operations be answered and
   * clients half-close their streams, then close the ports. Bounded by
   * options.graceMs. Idempotent.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  status(): NodeStatus {
    const stats = this.engine.stats();
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
    };
  }

  private async doStop(reason: string): Promise<void> {
    const deadline = Date.now() + this.options.graceMs;
    this.setState('stopping', reason);
    this.engine.stopAccepting();
    await this.sessionService.closeStreams(this.options.graceMs);
    await shutdown(this.sessionServer, Math.max(0, deadline - Date.now()));
    await shutdown(this.controlServer, 100);
    this.setState('stopped', reason);
  }

  private setState(next: NodeState, reason: string): void {
    const from = this.currentState;
    if (from === next) return;
    this.currentState = next;
    this.logger.info({ from, to: next, reason }, `node state ${from} -> ${next}`);
    this.emit('event', { type: 'state', from, to: next, reason });
  }
}
