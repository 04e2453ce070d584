import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { coalesceWebSocketWrites } from './ws-write-coalescing';

const FRAMES = 40;

interface Wired {
  readonly http: HttpServer;
  readonly server: Server;
  readonly client: ClientSocket;
  /** Calls of the server-side TCP socket's `_write`/`_writev` (one system call each). */
  readonly writes: () => number;
}

/** A real socket.io server and client on loopback; counts the server socket's writes. */
async function wire(coalesce: boolean): Promise<Wired> {
  const http = createServer();
  const server = new Server(http, { transports: ['websocket'] });
  if (coalesce) coalesceWebSocketWrites(server.engine);
  let writes = 0;
  server.engine.on('connection', (conn: { transport: { socket: { _socket: NetSocket } } }) => {
    // The field the coalescing relies on must exist in the engine.io/ws versions we run.
    const raw = conn.transport.socket._socket;
    const write = raw._write.bind(raw);
    const writev = raw._writev!.bind(raw);
    raw._write = (...args: Parameters<typeof write>) => {
      writes++;
      write(...args);
    };
    raw._writev = (...args: Parameters<typeof writev>) => {
      writes++;
      writev(...args);
    };
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const client = connect(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connect_error', reject);
  });
  return { http, server, client, writes: () => writes };
}

/** Emits FRAMES events to the one connected socket in one tick; resolves with what arrived. */
async function burst(w: Wired): Promise<number[]> {
  const received: number[] = [];
  const all = new Promise<void>((resolve) =>
    w.client.on('n', (n: number) => {
      received.push(n);
      if (received.length === FRAMES) resolve();
    }),
  );
  const [socket] = await w.server.fetchSockets();
  for (let n = 0; n < FRAMES; n++) socket.emit('n', n);
  await all;
  return received;
}

async function close(w: Wired): Promise<void> {
  w.client.disconnect();
  await w.server.close();
  w.http.close();
}

describe('coalesceWebSocketWrites with real socket.io and ws', () => {
  it('sends a burst of frames to one socket in a few writes, in order', async () => {
    const plain = await wire(false);
    const coalesced = await wire(true);
    try {
      const before = [plain.writes(), coalesced.writes()];
      const expected = Array.from({ length: FRAMES }, (_, n) => n);
      expect(await burst(plain)).toEqual(expected);
      expect(await burst(coalesced)).toEqual(expected);
      const plainWrites = plain.writes() - before[0];
      const coalescedWrites = coalesced.writes() - before[1];
      // Without coalescing, every frame queued behind the first costs its own write.
      expect(plainWrites).toBeGreaterThanOrEqual(FRAMES / 2);
      expect(coalescedWrites).toBeLessThanOrEqual(3);
    } finally {
      await close(plain);
      await close(coalesced);
    }
  });
});
