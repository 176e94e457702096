import { credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { loadBatonProto } from '../../src/rpc/proto-loader.js';
import type { NodeStatus__Output } from '../../src/generated/baton/v1/NodeStatus.js';
import type { SessionRecord__Output } from '../../src/generated/baton/v1/SessionRecord.js';
import { DaemonProcess } from './daemon-process.js';
import { freePort } from './free-port.js';

export interface PairOptions {
  redisUrl?: string;
  cluster?: string;
  /** Extra flags for both nodes. */
  args?: readonly string[];
  /** Extra flags per node. */
  argsA?: readonly string[];
  argsB?: readonly string[];
}

/** Asks a node's ControlService for its status. */
export function nodeStatus(controlAddress: string): Promise<NodeStatus__Output> {
  const proto = loadBatonProto();
  const client = new proto.baton.v1.ControlService(controlAddress, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.Status({}, { deadline: Date.now() + 5_000 }, (err: ServiceError | null, res?: NodeStatus__Output) => {
      client.close();
      if (err || res === undefined) reject(err ?? new Error('no status'));
      else resolve(res);
    });
  });
}

/** Every record a node holds, ordered by session id. */
export function nodeRecords(controlAddress: string, owner = ''): Promise<SessionRecord__Output[]> {
  const proto = loadBatonProto();
  const client = new proto.baton.v1.ControlService(controlAddress, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const out: SessionRecord__Output[] = [];
    const call = client.ListRecords({ owner }, { deadline: Date.now() + 10_000 });
    call.on('data', (r: SessionRecord__Output) => out.push(r));
    call.on('end', () => {
      client.close();
      resolve(out);
    });
    call.on('error', (err: Error) => {
      client.close();
      reject(err);
    });
  });
}

/**
 * A primary ("a") and a secondary ("b") as real daemon processes. Control
 * ports are chosen up front because each node is told the other's.
 */
export class Pair {
  private constructor(
    readonly options: PairOptions,
    readonly controlA: string,
    readonly controlB: string,
    readonly listenA: string,
    readonly listenB: string,
    public a: DaemonProcess | undefined,
    public b: DaemonProcess | undefined,
  ) {}

  static async start(options: PairOptions = {}): Promise<Pair> {
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()].map((p) => `127.0.0.1:${p}`) as [string, string, string, string];
    // Fixed ports, as in production: a restarted node comes back where it was.
    const pair = new Pair(options, ports[0], ports[1], ports[2], ports[3], undefined, undefined);
    [pair.a, pair.b] = await Promise.all([pair.startNode('a'), pair.startNode('b')]);
    return pair;
  }

  /** Session API addresses, for a BatonClient. */
  get nodes(): string[] {
    return [this.a?.sessionAddress, this.b?.sessionAddress].filter((a): a is string => a !== undefined && a !== '');
  }

  node(name: 'a' | 'b'): DaemonProcess {
    const node = name === 'a' ? this.a : this.b;
    if (node === undefined) throw new Error(`node ${name} is not running`);
    return node;
  }

  control(name: 'a' | 'b'): string {
    return name === 'a' ? this.controlA : this.controlB;
  }

  async startNode(name: 'a' | 'b', extra: readonly string[] = []): Promise<DaemonProcess> {
    const o = this.options;
    const node = await DaemonProcess.start({
      nodeId: name,
      control: name === 'a' ? this.controlA : this.controlB,
      listen: name === 'a' ? this.listenA : this.listenB,
      args: [
        '--role',
        name === 'a' ? 'primary' : 'secondary',
        '--peer',
        name === 'a' ? this.controlB : this.controlA,
        '--cluster',
        o.cluster ?? 'test',
        ...(o.redisUrl === undefined ? [] : ['--redis', o.redisUrl]),
        '--bootstrap-peer-wait-ms',
        '1000',
        ...(o.args ?? []),
        ...((name === 'a' ? o.argsA : o.argsB) ?? []),
        ...extra,
      ],
    });
    if (name === 'a') this.a = node;
    else this.b = node;
    return node;
  }

  status(name: 'a' | 'b'): Promise<NodeStatus__Output> {
    return nodeStatus(this.control(name));
  }

  records(name: 'a' | 'b', owner = ''): Promise<SessionRecord__Output[]> {
    return nodeRecords(this.control(name), owner);
  }

  /** Resolves once the secondary streams the primary's log with nothing outstanding. */
  async inSync(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [a, b] = await Promise.all([this.status('a'), this.status('b')]);
      const ra = a.replication;
      const rb = b.replication;
      if (ra !== null && rb !== null && rb.inSync && rb.upstreamOffset === ra.offset && ra.replicaAttached && ra.replicaAckedOffset === ra.offset) return;
      if (Date.now() > deadline) throw new Error(`pair not in sync: a=${JSON.stringify(ra)} b=${JSON.stringify(rb)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
