import { EventEmitter } from 'node:events';
import { coalesceWebSocketWrites } from './ws-write-coalescing';

/** A TCP socket that records cork/uncork. */
class FakeSocket {
  destroyed = false;
  writableCorked = 0;
  readonly calls: string[] = [];
  cork(): void {
    this.writableCorked++;
    this.calls.push('cork');
  }
  uncork(): void {
    this.writableCorked--;
    this.calls.push('uncork');
  }
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('coalesceWebSocketWrites', () => {
  let engine: EventEmitter;
  beforeEach(() => {
    engine = new EventEmitter();
    coalesceWebSocketWrites(engine);
  });
  const flush = (name: string, socket: FakeSocket) =>
    engine.emit('flush', { transport: { name, socket: { _socket: socket } } });

  it('corks a websocket connection once per tick and uncorks it at the end of the tick', async () => {
    const socket = new FakeSocket();
    flush('websocket', socket);
    flush('websocket', socket);
    expect(socket.calls).toEqual(['cork']);
    await nextTick();
    expect(socket.calls).toEqual(['cork', 'uncork']);
    expect(socket.writableCorked).toBe(0);
    flush('websocket', socket);
    expect(socket.calls).toEqual(['cork', 'uncork', 'cork']);
  });

  it('leaves polling transports, destroyed sockets and connections without a socket alone', async () => {
    const polling = new FakeSocket();
    const destroyed = Object.assign(new FakeSocket(), { destroyed: true });
    flush('polling', polling);
    flush('websocket', destroyed);
    engine.emit('flush', { transport: { name: 'websocket' } });
    engine.emit('flush', {});
    await nextTick();
    expect(polling.calls).toEqual([]);
    expect(destroyed.calls).toEqual([]);
  });
});
