import { deflateSync } from 'node:zlib';
import { io } from 'socket.io-client';
import { WrtcTestPeer, type TestPeerSignal } from '@app/calls/testing';
import { type Envelope, TestClient } from './test-client';

/**
 * A real WebRTC participant whose signaling connection can change (a Mattermost client whose
 * WebSocket reconnects, possibly through another instance): SDP and ICE go through the current
 * {@link client}, and `signal` events for the session (`connID` = the session id, which stays the
 * id of the first connection) are taken from every connection it was given.
 */
export class MovingPeer {
  private current: TestClient;
  private readonly listened = new Set<TestClient>();
  readonly peer: Promise<WrtcTestPeer>;

  constructor(
    client: TestClient,
    /** The session id (the connection id at join). */
    readonly sessionId: string,
    name: string,
  ) {
    this.current = client;
    this.peer = WrtcTestPeer.create(
      {
        sendDescription: async (description) => {
          const ack = await this.current.send<{ ok: boolean }>('sdp', {
            data: deflateSync(Buffer.from(JSON.stringify(description))),
          });
          if (!ack.ok) throw new Error(`sdp refused: ${JSON.stringify(ack)}`);
        },
        sendCandidate: async (candidate) => {
          await this.current.send('ice', { data: JSON.stringify(candidate) });
        },
      },
      { name },
    );
    this.listen(client);
  }

  /** The connection signaling goes through now. */
  get client(): TestClient {
    return this.current;
  }

  /** Signaling goes through `client` from now on. */
  moveTo(client: TestClient): void {
    this.current = client;
    this.listen(client);
  }

  /**
   * Takes the session's signals from `client` too, before it becomes the current connection: a
   * client listens on its new connection before it sends `reconnect` there, and the server may
   * send it an offer before the acknowledgement.
   */
  listen(client: TestClient): void {
    if (this.listened.has(client)) return;
    this.listened.add(client);
    client.socket.on('custom_com.mattermost.calls_signal', (envelope: Envelope) => {
      if (envelope.data.connID !== this.sessionId) return;
      void this.peer.then((p) =>
        p.handleSignal(JSON.parse(envelope.data.data as string) as TestPeerSignal),
      );
    });
  }
}

/**
 * A calls socket to `http://127.0.0.1:<port>` (e.g. a TCP proxy in front of the instances).
 * @throws when it is not connected (`hello` received) within `timeoutMs`; the socket is closed
 */
export async function connectThrough(
  port: number,
  token: string,
  timeoutMs = 10_000,
): Promise<TestClient> {
  const socket = io(`http://127.0.0.1:${port}/calls`, {
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  const client = new TestClient(socket);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connected(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not connected within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    client.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return client;
}
