import { io, type Socket } from 'socket.io-client';

/** Prefix of every calls action and event name. */
export const CALLS_PREFIX = 'custom_com.mattermost.calls_';

const ACK_TIMEOUT_MS = 10_000;

/** A server event: Mattermost's envelope. */
export interface Envelope {
  event: string;
  data: Record<string, unknown>;
  broadcast?: Record<string, unknown>;
  seq?: number;
}

/** An action the server refused (or did not answer). */
export class ActionError extends Error {
  constructor(
    readonly action: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/** What the socket reports to its owner. */
export interface CallsSocketListener {
  /** `hello` arrived: a (new) connection with this id is ready for actions. */
  hello(connectionId: string, first: boolean): void;
  /** A calls event, named without the prefix (`user_joined`, `signal`, …). */
  event(name: string, data: Record<string, unknown>, envelope: Envelope): void;
  /** The connection dropped; socket.io is already trying to reconnect. */
  down(reason: string): void;
  /** The server refused the connection for good (e.g. `unauthorized`). */
  refused(error: Error): void;
}

interface Ack {
  ok?: unknown;
  error?: { code?: unknown; message?: unknown };
  [key: string]: unknown;
}

/**
 * The `/calls` socket.io namespace: Mattermost actions with acknowledgements, events with the
 * prefix taken off, and automatic reconnection (the owner sends `reconnect` on the next `hello`).
 */
export class CallsSocket {
  private readonly socket: Socket;
  private hellos = 0;
  /** Id of the current connection (from its `hello`). */
  connectionId = '';

  constructor(
    token: string,
    private readonly listener: CallsSocketListener,
  ) {
    this.socket = io(`${location.origin}/calls`, {
      auth: { token },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    this.socket.on('hello', (envelope: Envelope) => {
      const id = envelope?.data?.connection_id;
      this.connectionId = typeof id === 'string' ? id : '';
      this.hellos += 1;
      this.listener.hello(this.connectionId, this.hellos === 1);
    });
    this.socket.onAny((name: string, envelope: Envelope) => {
      if (!name.startsWith(CALLS_PREFIX) || typeof envelope !== 'object' || envelope === null)
        return;
      this.listener.event(name.slice(CALLS_PREFIX.length), envelope.data ?? {}, envelope);
    });
    this.socket.on('disconnect', (reason) => {
      this.listener.down(reason);
      // socket.io does not retry after the server closed the socket itself (e.g. a restart).
      if (reason === 'io server disconnect') this.socket.connect();
    });
    this.socket.on('connect_error', (err) => {
      // Not active: the server's middleware refused us and socket.io will not retry.
      if (!this.socket.active) this.listener.refused(err);
    });
  }

  /** True while the socket is connected. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Sends `custom_com.mattermost.calls_<type>` and waits for its acknowledgement.
   * @throws ActionError when the server refuses it, does not answer, or the socket is down
   */
  async send(type: string, data?: unknown): Promise<Record<string, unknown>> {
    if (!this.socket.connected) {
      throw new ActionError(type, 'not_connected', 'not connected to the server');
    }
    const name = CALLS_PREFIX + type;
    const timed = this.socket.timeout(ACK_TIMEOUT_MS);
    let ack: Ack;
    try {
      ack = (await (data === undefined
        ? timed.emitWithAck(name)
        : timed.emitWithAck(name, data))) as Ack;
    } catch {
      if (!this.socket.connected) {
        throw new ActionError(type, 'not_connected', `the connection closed during "${type}"`);
      }
      throw new ActionError(type, 'timeout', `the server did not answer "${type}"`);
    }
    if (typeof ack !== 'object' || ack === null) return {};
    if (ack.ok === false) {
      const code = typeof ack.error?.code === 'string' ? ack.error.code : 'error';
      const message = typeof ack.error?.message === 'string' ? ack.error.message : 'refused';
      throw new ActionError(type, code, message);
    }
    return ack;
  }

  /** Sends an action without waiting (page unload). */
  fire(type: string): void {
    if (this.socket.connected) this.socket.emit(CALLS_PREFIX + type);
  }

  /** Drops the socket for good (no reconnection). */
  close(): void {
    this.socket.offAny();
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  /** Test hook: drops the transport as a network failure would (socket.io reconnects). */
  dropTransport(): void {
    this.socket.io.engine?.close();
  }
}
