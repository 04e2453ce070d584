import type { CallEvent } from '../calls/call-events';
import type { LocalSessions } from '../calls/local-sessions';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import type { CallState } from '../state/call-state.types';
import type { InstanceRelay } from './instance-relay.interface';
import type { LiveKitConnection } from './livekit-connection';
import { LIVEKIT_RELAY_TOPIC } from './livekit-relay.messages';
import { LiveKitSessions } from './livekit-sessions';
import { LiveKitDelivery } from './livekit.delivery';

const view = (sessionId: string): ParticipantView => ({
  sessionId,
  identity: `u___${sessionId}`,
  name: sessionId,
  metadata: '',
  attributes: {},
  tracks: [],
  joinedAtMs: 1,
  unmuted: false,
});

/** A joined LiveKit connection as the delivery sees it (a fake: no socket). */
function connection(sessionId: string, channelId: string, userId = `user-${sessionId}`) {
  return {
    sessionId,
    session: { sessionId, channelId, callId: 'call' },
    client: { userId },
    view: { self: view(sessionId) },
    deliver: jest.fn(),
    deliverAll: jest.fn(),
    showParticipant: jest.fn(),
    media: { sendData: jest.fn() },
  };
}

/** The relay between two instances, in memory. */
class FakeRelay implements InstanceRelay {
  readonly sent: unknown[] = [];
  private listener: (payload: unknown) => void = () => undefined;
  constructor(readonly clustered = true) {}
  emitToOthers(topic: string, payload: unknown): void {
    expect(topic).toBe(LIVEKIT_RELAY_TOPIC);
    this.sent.push(JSON.parse(JSON.stringify(payload)));
  }
  onFromOthers(_topic: string, listener: (payload: unknown) => void): void {
    this.listener = listener;
  }
  receive(payload: unknown): void {
    this.listener(payload);
  }
}

describe('LiveKitDelivery', () => {
  const joined: CallEvent = { type: 'session-joined', userId: 'u9', sessionId: 's9' };
  let connections: LiveKitSessions;
  let served: Set<string>;
  let relay: FakeRelay;
  let delivery: LiveKitDelivery;
  const build = (on = true, clustered = true) => {
    connections = new LiveKitSessions();
    served = new Set();
    relay = new FakeRelay(clustered);
    const local = { get: (id: string) => (served.has(id) ? {} : undefined) };
    delivery = new LiveKitDelivery(connections, local as unknown as LocalSessions, { on }, relay);
    delivery.onModuleInit();
  };
  const add = (c: ReturnType<typeof connection>) => {
    connections.add(c as unknown as LiveKitConnection);
    return c;
  };

  beforeEach(() => build());

  it('delivers a channel event to the LiveKit connections of that channel here, and relays it', () => {
    const a = add(connection('s1', 'ch1'));
    const other = add(connection('s2', 'ch2'));
    delivery.toChannel('ch1', joined);
    expect(a.deliver).toHaveBeenCalledWith(joined);
    expect(other.deliver).not.toHaveBeenCalled();
    expect(relay.sent).toEqual([
      { type: 'event', target: { kind: 'channel', channelId: 'ch1' }, event: joined },
    ]);
    delivery.toParticipants({ channelId: 'ch2' } as CallState, joined);
    expect(other.deliver).toHaveBeenCalledWith(joined);
  });

  it('hands a channel batch to each LiveKit connection of the channel at once, and relays each event', () => {
    const a = add(connection('s1', 'ch1'));
    const other = add(connection('s2', 'ch2'));
    const left: CallEvent = { type: 'session-left', userId: 'u8', sessionId: 's8' };
    const dismissed: CallEvent = { type: 'notification-dismissed', userId: 'u', callId: 'c' };
    delivery.toChannelBatch('ch1', [joined, dismissed, left]);
    expect(a.deliverAll).toHaveBeenCalledWith([joined, left]);
    expect(other.deliverAll).not.toHaveBeenCalled();
    const target = { kind: 'channel', channelId: 'ch1' };
    expect(relay.sent).toEqual([
      { type: 'event', target, event: joined },
      { type: 'event', target, event: left },
    ]);
  });

  it('reaches a user’s connections (in one channel when named)', () => {
    const a = add(connection('s1', 'ch1', 'ann'));
    const b = add(connection('s2', 'ch2', 'ann'));
    const event: CallEvent = { type: 'host-muted', channelId: 'ch2', sessionId: 's2' };
    delivery.toUser('ann', event, 'ch2');
    expect(a.deliver).not.toHaveBeenCalled();
    expect(b.deliver).toHaveBeenCalledWith(event);
  });

  it('sends a session event to its connection here, to nobody when another protocol serves it here, else relays it', () => {
    const a = add(connection('s1', 'ch1'));
    const event: CallEvent = { type: 'host-muted', channelId: 'ch1', sessionId: 's1' };
    delivery.toSession('s1', 'ch1', event);
    expect(a.deliver).toHaveBeenCalledWith(event);
    served.add('socket-session');
    delivery.toSession('socket-session', 'ch1', event);
    expect(relay.sent).toEqual([]);
    delivery.toSession('elsewhere', 'ch1', event);
    expect(relay.sent).toEqual([
      { type: 'event', target: { kind: 'session', sessionId: 'elsewhere' }, event },
    ]);
  });

  it('neither delivers nor relays what LiveKit clients are not told', () => {
    const a = add(connection('s1', 'ch1'));
    delivery.toChannel('ch1', { type: 'notification-dismissed', userId: 'u', callId: 'c' });
    delivery.toSession('s1', 'ch1', {
      type: 'signal',
      channelId: 'ch1',
      userId: 'u',
      sessionId: 's1',
      signal: { type: 'offer', sdp: 'v=0' },
    });
    expect(a.deliver).not.toHaveBeenCalled();
    expect(relay.sent).toEqual([]);
  });

  it('delivers relayed events here, and drops malformed ones', () => {
    const a = add(connection('s1', 'ch1'));
    relay.receive({ type: 'event', target: { kind: 'channel', channelId: 'ch1' }, event: joined });
    relay.receive({ type: 'event', target: { kind: 'nobody' }, event: joined });
    expect(a.deliver).toHaveBeenCalledTimes(1);
    expect(relay.sent).toEqual([]);
  });

  it('a participant that joined elsewhere is shown here and sent this instance’s LiveKit participants', () => {
    const a = add(connection('s1', 'ch1'));
    relay.receive({ type: 'participant', channelId: 'ch1', view: view('s7'), joined: true });
    expect(a.showParticipant).toHaveBeenCalledWith(view('s7'));
    expect(relay.sent).toEqual([
      { type: 'participant', channelId: 'ch1', view: view('s1'), to: 's7' },
    ]);
    relay.receive({ type: 'participant', channelId: 'ch1', view: view('s8'), to: 's2' });
    expect(a.showParticipant).toHaveBeenCalledTimes(1);
  });

  it('a participant joining here is shown here and relayed; nothing crosses without other instances', () => {
    const a = add(connection('s1', 'ch1'));
    const b = add(connection('s2', 'ch1'));
    delivery.showParticipant('ch1', view('s2'), true);
    expect(a.showParticipant).toHaveBeenCalledWith(view('s2'));
    expect(b.showParticipant).not.toHaveBeenCalled();
    expect(relay.sent).toEqual([
      { type: 'participant', channelId: 'ch1', view: view('s2'), joined: true },
    ]);
    expect(b.deliver).not.toHaveBeenCalled();

    build(true, false);
    add(connection('s1', 'ch1'));
    delivery.toChannel('ch1', joined);
    delivery.evictElsewhere('s1');
    expect(relay.sent).toEqual([]);
  });

  it('does nothing while the LiveKit endpoint is off', () => {
    build(false);
    const a = add(connection('s1', 'ch1'));
    delivery.toChannel('ch1', joined);
    delivery.showParticipant('ch1', view('s1'));
    expect(a.deliver).not.toHaveBeenCalled();
    expect(relay.sent).toEqual([]);
  });

  it('delivers a data packet to the others of the channel (or those it names), here and elsewhere', () => {
    const sender = add(connection('s1', 'ch1'));
    const b = add(connection('s2', 'ch1'));
    const c = add(connection('s3', 'ch1'));
    const elsewhere = add(connection('s4', 'ch2'));
    const payload = new Uint8Array([1, 2, 3]);

    delivery.sendData({
      channelId: 'ch1',
      from: 's1',
      label: '_reliable',
      payload,
      destinations: [],
    });
    delivery.sendData({
      channelId: 'ch1',
      from: 's1',
      label: '_lossy',
      payload,
      destinations: ['u___s3'],
    });

    expect(sender.media.sendData).not.toHaveBeenCalled();
    expect(b.media.sendData.mock.calls).toEqual([['_reliable', payload]]);
    expect(c.media.sendData.mock.calls).toEqual([
      ['_reliable', payload],
      ['_lossy', payload],
    ]);
    expect(elsewhere.media.sendData).not.toHaveBeenCalled();
    expect(relay.sent[0]).toEqual({
      type: 'data',
      channelId: 'ch1',
      from: 's1',
      label: '_reliable',
      payload: 'AQID',
      destinations: [],
    });

    // Relayed from another instance: delivered here the same way; a malformed one is dropped.
    relay.receive({ ...(relay.sent[0] as object), from: 's9', payload: 'BAU=' });
    relay.receive({ type: 'data', channelId: 'ch1', from: 's9', label: '_reliable', payload: 1 });
    expect(sender.media.sendData).toHaveBeenCalledWith('_reliable', Buffer.from([4, 5]));
    expect(b.media.sendData).toHaveBeenCalledTimes(2);
  });
});
