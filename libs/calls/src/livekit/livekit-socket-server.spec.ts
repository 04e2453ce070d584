import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { type WebSocketServer } from 'ws';
import { createSignalSocketServer, MAX_WS_PAYLOAD } from './livekit-socket-server';

describe('createSignalSocketServer', () => {
  let http: Server;
  let wss: WebSocketServer;
  let url: string;
  const received: { data: Buffer; isBinary: boolean }[] = [];

  beforeEach(async () => {
    received.length = 0;
    wss = createSignalSocketServer();
    http = createServer();
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data: Buffer, isBinary: boolean) => received.push({ data, isBinary }));
        ws.on('error', () => undefined);
      }),
    );
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    wss.close();
    http.close();
    await once(http, 'close');
  });

  const client = async (): Promise<WebSocket> => {
    const ws = new WebSocket(url);
    await once(ws, 'open');
    return ws;
  };

  it('hands a text frame that is not UTF-8 to the connection (which refuses text with a reason)', async () => {
    const ws = await client();
    const closed = once(ws, 'close');
    ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28]), { binary: false });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    while (received.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(received.map((r) => r.isBinary)).toEqual([false, true]);
    ws.close();
    await closed;
  });

  it('refuses a message over its payload cap itself (1009)', async () => {
    const ws = await client();
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    ws.send(Buffer.alloc(MAX_WS_PAYLOAD + 1));
    const [code] = await closed;
    expect(code).toBe(1009);
    expect(received).toEqual([]);
  });
});
