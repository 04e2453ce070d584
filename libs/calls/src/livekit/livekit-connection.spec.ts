import { EventEmitter } from 'node:events';
import { SignalRequest, SignalResponse } from '@livekit/protocol';
import type WebSocket from 'ws';
import type { CallEvent } from '../calls/call-events';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import { RoomView } from '../protocol/livekit/room-view';
import { type ConnectionHooks, type LiveKitClient, LiveKitConnection } from './livekit-connection';

/** A `ws` socket as the connection uses it: events in, frames and closes recorded. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly sent: SignalResponse[] = [];
  readonly closes: { code: number; reason: string }[] = [];

  send(frame: Uint8Array): void {
    this.sent.push(SignalResponse.fromBinary(frame));
  }

  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.readyState = 3;
  }
}

const self: ParticipantView = {
  sessionId: 's0',
  identity: 'u0___s0',
  name: 'u0',
  metadata: '',
  attributes: {},
  tracks: [],
  joinedAtMs: 1,
  unmuted: false,
};

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
      { sessionId: 's0', userId: 'u0', channelId: 'ch' } as LiveKitClient,
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

  it('sends the participant changes of a batch of call events as one update', () => {
    connection.joined(new RoomView(self, 'call', 'ch', (id) => id));
    const events: CallEvent[] = [
      { type: 'session-joined', userId: 'u1', sessionId: 's1' },
      { type: 'session-joined', userId: 'u2', sessionId: 's2' },
      { type: 'session-joined', userId: 'u0', sessionId: 's0' },
      { type: 'session-left', userId: 'u1', sessionId: 's1' },
      { type: 'voice', speaking: true, userId: 'u2', sessionId: 's2' },
    ];

    connection.deliverAll(events);

    expect(
      socket.sent.map((r) =>
        r.message.case === 'update'
          ? `update ${r.message.value.participants.map((p) => `${p.identity}:${p.state}`).join(' ')}`
          : r.message.case,
      ),
    ).toEqual([
      // One update, each participant once with its last info: s1 left (state 3 = DISCONNECTED).
      'update u2___s2:2 u1___s1:3',
      'speakersChanged',
    ]);
  });
});
