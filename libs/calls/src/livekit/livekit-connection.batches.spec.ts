import { EventEmitter } from 'node:events';
import { SignalResponse } from '@livekit/protocol';
import type WebSocket from 'ws';
import type { CallEvent } from '../calls/call-events';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import { RoomView } from '../protocol/livekit/room-view';
import { type ConnectionHooks, LiveKitConnection } from './livekit-connection';

/** A WebSocket that keeps what is sent on it. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly sent: SignalResponse[] = [];
  send(frame: Uint8Array): void {
    this.sent.push(SignalResponse.fromBinary(frame));
  }
  close(): void {
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

const hooks: ConnectionHooks = {
  attached: () => undefined,
  detached: () => undefined,
  request: () => Promise.resolve(),
  leaveCall: () => Promise.resolve(),
  closed: () => undefined,
  refused: () => undefined,
};

describe('LiveKitConnection: call events in batches', () => {
  let socket: FakeSocket;
  let connection: LiveKitConnection;

  beforeEach(() => {
    socket = new FakeSocket();
    const client = { userId: 'u0', channelId: 'ch', sessionId: 's0' };
    connection = new LiveKitConnection(
      socket as unknown as WebSocket,
      client as ConstructorParameters<typeof LiveKitConnection>[1],
      { messageRate: 10, messageBurst: 10, maxFrameBytes: 1 << 20, idleTimeoutMs: 60_000 },
      hooks,
    );
    connection.joined(new RoomView(self, 'call', 'ch', (id) => id));
  });

  afterEach(() => connection.closeWithError(1000, 'done'));

  it('sends the participant changes of a batch of call events as one update', () => {
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
