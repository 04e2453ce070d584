import { parseRelayMessage } from './livekit-relay.messages';

const view = {
  sessionId: 's1',
  identity: 'u1___s1',
  name: 'Ann',
  metadata: '',
  attributes: { a: 'b' },
  tracks: [],
  joinedAtMs: 1,
  unmuted: false,
};

describe('LiveKit relay messages', () => {
  it('accepts the three kinds', () => {
    const event = {
      type: 'event',
      target: { kind: 'channel', channelId: 'ch' },
      event: { type: 'session-joined', userId: 'u', sessionId: 's' },
    };
    expect(parseRelayMessage(event)).toEqual(event);
    const participant = { type: 'participant', channelId: 'ch', view, to: 's2', joined: true };
    expect(parseRelayMessage(participant)).toEqual(participant);
    expect(parseRelayMessage({ type: 'evict', sessionId: 's' })).toEqual({
      type: 'evict',
      sessionId: 's',
    });
  });

  it.each([
    null,
    'text',
    { type: 'other' },
    { type: 'event', target: { kind: 'everyone' }, event: { type: 'session-joined' } },
    { type: 'event', target: { kind: 'session', sessionId: 's' }, event: { type: 'signal' } },
    { type: 'participant', channelId: 'ch', view: { ...view, attributes: { a: 1 } } },
    { type: 'participant', channelId: 'ch', view: { ...view, tracks: [{}] } },
    { type: 'evict', sessionId: 3 },
  ])('drops %j', (payload) => {
    expect(parseRelayMessage(payload)).toBeNull();
  });
});
