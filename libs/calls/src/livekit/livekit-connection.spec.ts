import { EventEmitter } from 'node:events';
import { SignalRequest } from '@livekit/protocol';
import type WebSocket from 'ws';
import { type ConnectionHooks, type LiveKitClient, LiveKitConnection } from './livekit-connection';

/** A `ws` socket as the connection uses it: events in, frames and closes recorded. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly closes: { code: number; reason: string }[] = [];

  send(): void {}

  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.readyState = 3;
  }
}

const frame = (message: SignalRequest['message']): Buffer =>
  Buffer.from(new SignalRequest({ message }).toBinary());

describe('LiveKitConnection', () => {
  let socket: FakeSocket;
  let handled: string[];
  let connection: LiveKitConnection;

  beforeEach(() => {
    socket = new FakeSocket();
    handled = [];
    const hooks: ConnectionHooks = {
      attached: () => undefined,
      detached: () => undefined,
      request: (_c, request) => {
        handled.push(request.message.case ?? 'unknown');
        return Promise.resolve();
      },
      leaveCall: () => Promise.resolve(),
      closed: () => undefined,
      refused: () => undefined,
    };
    connection = new LiveKitConnection(
      socket as unknown as WebSocket,
      { sessionId: 's1', userId: 'u1', channelId: 'ch1' } as LiveKitClient,
      { messageRate: 100, messageBurst: 100, maxFrameBytes: 1024, idleTimeoutMs: 15_000 },
      hooks,
    );
  });

  afterEach(() => socket.emit('close'));

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('handles requests that came before the join after it, in the order they came', async () => {
    let joined!: () => void;
    connection.enqueue(
      () =>
        new Promise<void>((resolve) => {
          joined = () => {
            handled.push('join');
            resolve();
          };
        }),
    );
    socket.emit('message', frame({ case: 'ping', value: 1n }), true);
    socket.emit('message', frame({ case: 'leave', value: {} as never }), true);
    await settle();
    expect(handled).toEqual([]);

    joined();
    await settle();

    expect(handled).toEqual(['join', 'ping', 'leave']);
  });

  it('a task that fails does not stop the ones after it', async () => {
    connection.enqueue(() => Promise.reject(new Error('join failed')));
    socket.emit('message', frame({ case: 'ping', value: 1n }), true);
    await settle();
    expect(handled).toEqual(['ping']);
  });

  it.each([
    ['a text frame', Buffer.from([0x7b, 0xff]), false, 1003],
    ['a frame over the limit', Buffer.alloc(2048), true, 1009],
    ['a frame that is not a SignalRequest', Buffer.from([0x0a, 0xff, 0x01]), true, 1007],
  ])('%s closes it with a reason', (_what, data, isBinary, code) => {
    socket.emit('message', data, isBinary);
    expect(socket.closes).toEqual([{ code, reason: expect.stringMatching(/\S/) }]);
    expect(handled).toEqual([]);
  });
});
