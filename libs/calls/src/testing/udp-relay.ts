import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

/**
 * A loopback UDP relay between one WebRTC client and one server port, for cutting the media
 * path in tests: while {@link blocked}, every packet in both directions is dropped (the
 * signaling path stays up, like a client whose network drops media).
 */
export class UdpRelay {
  /** Drop all packets while true. */
  blocked = false;
  /** Packets forwarded / dropped so far. */
  forwarded = 0;
  dropped = 0;
  private client: RemoteInfo | null = null;

  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    readonly target: { readonly address: string; readonly port: number },
  ) {
    front.on('message', (msg, from) => {
      this.client = from;
      if (this.blocked) return void this.dropped++;
      this.forwarded++;
      back.send(msg, target.port, target.address);
    });
    back.on('message', (msg) => {
      if (this.blocked || !this.client) return void this.dropped++;
      this.forwarded++;
      front.send(msg, this.client.port, this.client.address);
    });
  }

  /** Starts a relay on a free loopback port towards `target`. */
  static async start(target: { address: string; port: number }): Promise<UdpRelay> {
    const front = createSocket('udp4');
    const back = createSocket('udp4');
    front.bind(0, '127.0.0.1');
    back.bind(0, '127.0.0.1');
    await Promise.all([once(front, 'listening'), once(back, 'listening')]);
    return new UdpRelay(front, back, target);
  }

  /** The port clients should send to. */
  get port(): number {
    return this.front.address().port;
  }

  /**
   * Rewrites the server's UDP candidate for `target` to point at the relay and drops every other
   * candidate (so that ICE cannot take another path), in a description or a single candidate line.
   */
  rewrite(text: string): string {
    const { address, port } = this.target;
    return text
      .split(/\r?\n/)
      .filter(
        (line) =>
          !/candidate:/.test(line) ||
          (line.includes(` udp `) && line.includes(` ${address} ${port} `)),
      )
      .map((line) => line.replace(` ${address} ${port} `, ` 127.0.0.1 ${this.port} `))
      .join('\r\n');
  }

  /** {@link rewrite} for one trickled candidate line: the rewritten line, or `null` to drop it. */
  rewriteCandidate(line: string): string | null {
    const rewritten = this.rewrite(line);
    return rewritten === '' ? null : rewritten;
  }

  /** Closes both sockets. */
  close(): void {
    this.front.close();
    this.back.close();
  }
}
