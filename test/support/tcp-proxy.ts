import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@app/calls/testing';

/**
 * A TCP proxy in front of a server (Redis) that can cut every connection and refuse new ones, then
 * let them through again: an outage without data loss (a network partition), where killing the
 * server would also empty it.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  /** Where new connections go (see {@link retarget}). */
  target = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port, forwarding to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => {
      if (!proxy?.open) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ port: proxy.target, host: '127.0.0.1' });
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy?.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, port);
    proxy.target = targetPort;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  /**
   * Sends new connections to another server from now on (a load balancer switching backends);
   * open connections stay where they are until {@link cut}.
   */
  retarget(targetPort: number): void {
    this.target = targetPort;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
