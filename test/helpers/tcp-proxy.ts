import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a node, for fault injection with
 * real sockets. `dropConnectionOnReply(marker)` cuts every connection as
 * soon as the node sends bytes containing `marker`, before they reach the
 * client: the node has applied the operation, the client never learns it.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private marker: Buffer | undefined;
  dropped = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(target: string): Promise<TcpProxy> {
    const at = target.lastIndexOf(':');
    const host = target.slice(0, at);
    const port = Number(target.slice(at + 1));
    // Connections arrive only after listen(), when `proxy` exists.
    const server = createServer((client) => proxy.track(client, createConnection({ host, port })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  dropConnectionOnReply(marker: string): void {
    this.marker = Buffer.from(marker);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(client: Socket, upstream: Socket): void {
    this.sockets.add(client);
    this.sockets.add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.marker !== undefined && chunk.includes(this.marker)) {
        this.marker = undefined;
        this.dropped += 1;
        cut();
        return;
      }
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', () => {
        this.sockets.delete(s);
        cut();
      });
    }
  }
}
