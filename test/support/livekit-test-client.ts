import { SignalRequest, SignalResponse } from '@livekit/protocol';
import WebSocket from 'ws';

/** A server message of one kind. */
export type ServerMessage = SignalResponse['message'];
type Case = NonNullable<ServerMessage['case']>;
type ValueOf<C extends Case> = Extract<ServerMessage, { case: C }>['value'];

/** Values of {@link LiveKitTestClient.request}'s marker pings, far from any a test sends itself. */
let nextMarker = 2n ** 60n;

/** An upgrade the server refused: its HTTP status and body. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

/**
 * A LiveKit signal client in Node: the `ws` WebSocket of `<url>/rtc`, binary protobuf with
 * `@livekit/protocol`'s classes, recording every server message.
 */
export class LiveKitTestClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly listeners: ((m: ServerMessage) => void)[] = [];
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] =
    [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = SignalResponse.fromBinary(new Uint8Array(data)).message;
      this.messages.push(message);
      for (const listener of this.listeners) listener(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.stopKeepAlive();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /**
   * Opens `<base><path>` (e.g. `http://127.0.0.1:3000/livekit/rtc`) with a token in the query.
   * @throws UpgradeRefused when the server answers the upgrade with an HTTP error
   */
  static connect(
    httpBase: string,
    path: string,
    token: string | null,
    query = 'auto_subscribe=1&sdk=js&version=2.23.0&protocol=17',
    headers: Record<string, string> = {},
  ): Promise<LiveKitTestClient> {
    const base = httpBase.replace(/^http/, 'ws');
    const auth = token === null ? '' : `access_token=${encodeURIComponent(token)}&`;
    const socket = new WebSocket(`${base}${path}?${auth}${query}`, { headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new LiveKitTestClient(socket)));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      socket.once('error', reject);
    });
  }

  /** Sends a client request. */
  send(message: SignalRequest['message']): void {
    this.socket.send(new SignalRequest({ message }).toBinary());
  }

  /**
   * Sends a request, then a marker ping, and returns what came before the marker's pong: the
   * server handles a connection's requests in order, so that is the request's answer (with
   * whatever else the call sent meanwhile).
   */
  async request(message: SignalRequest['message'], timeoutMs = 15_000): Promise<ServerMessage[]> {
    const from = this.messages.length;
    const value = nextMarker++;
    this.send(message);
    this.send({ case: 'ping', value });
    await this.waitFor('pong', (v) => v === value, timeoutMs);
    return this.messages.slice(from).filter((m) => !(m.case === 'pong' && m.value === value));
  }

  /** Calls `listener` with every server message from now on. */
  onMessage(listener: (m: ServerMessage) => void): void {
    this.listeners.push(listener);
  }

  /** Pings every `intervalMs` (the server closes a connection that says nothing for 15 s). */
  keepAlive(intervalMs = 4000): void {
    this.stopKeepAlive();
    this.keepAliveTimer = setInterval(() => {
      if (this.socket.readyState === WebSocket.OPEN) this.send({ case: 'ping', value: 0n });
    }, intervalMs);
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Waits for a server message of a kind (already received ones count). */
  async waitFor<C extends Case>(
    kind: C,
    predicate: (value: ValueOf<C>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ValueOf<C>> {
    const message = await this.waitForMessage(
      (m) => m.case === kind && predicate(m.value as ValueOf<C>),
      kind,
      timeoutMs,
    );
    return message.value as ValueOf<C>;
  }

  private waitForMessage(
    match: (m: ServerMessage) => boolean,
    kind: string,
    timeoutMs: number,
  ): Promise<ServerMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${kind}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Messages of a kind received so far. */
  received<C extends Case>(kind: C): ValueOf<C>[] {
    return this.messages.filter((m) => m.case === kind).map((m) => m.value as ValueOf<C>);
  }

  close(): void {
    this.stopKeepAlive();
    this.socket.close();
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
  }
}
