import { CallModel } from './client/call-model';
import {
  hostOf,
  parseIdentity,
  raisedHandOf,
  roomSnapshot,
  type ParticipantLike,
  type PublicationLike,
} from './client/livekit-room-model';

function participant(
  identity: string,
  joinedAtMs: number | undefined,
  extra: {
    attributes?: Record<string, string>;
    speaking?: boolean;
    tracks?: PublicationLike[];
  } = {},
): ParticipantLike {
  return {
    identity,
    attributes: extra.attributes ?? {},
    isSpeaking: extra.speaking ?? false,
    joinedAt: joinedAtMs === undefined ? undefined : new Date(joinedAtMs),
    trackPublications: new Map((extra.tracks ?? []).map((t, i) => [`TR_${i}`, t])),
  };
}

describe('calls page: a LiveKit room as the page model', () => {
  it('reads identities as userID___sessionID (a bare identity is both)', () => {
    expect(parseIdentity('u-1___s-9')).toEqual({ userId: 'u-1', sessionId: 's-9' });
    expect(parseIdentity('someone')).toEqual({ userId: 'someone', sessionId: 'someone' });
  });

  it('reads the host from the room metadata, and nothing from anything else', () => {
    expect(hostOf('{"host_id":"u-1"}')).toBe('u-1');
    expect(hostOf('')).toBe('');
    expect(hostOf(undefined)).toBe('');
    expect(hostOf('not json')).toBe('');
    expect(hostOf('{"host_id":7}')).toBe('');
  });

  it('reads the raised_hand attribute: when it went up, 0 when down', () => {
    expect(raisedHandOf({ raised_hand: '1700000000000' })).toBe(1_700_000_000_000);
    expect(raisedHandOf({ raised_hand: 'yes' })).toBe(1);
    expect(raisedHandOf({ raised_hand: '' })).toBe(0);
    expect(raisedHandOf({})).toBe(0);
  });

  it('lists everyone in join order with mute, hand, voice, camera, host and the screen sharer', () => {
    const mic = (isMuted: boolean): PublicationLike => ({ source: 'microphone', isMuted });
    const camera = (isMuted: boolean): PublicationLike => ({ source: 'camera', isMuted });
    const snapshot = roomSnapshot({
      // This page joined second; Carol (a Mattermost session) shares her screen.
      localParticipant: participant('u-b___s-b', 2000, { tracks: [mic(false)] }),
      remoteParticipants: new Map([
        [
          'u-c___s-c',
          participant('u-c___s-c', 3000, {
            tracks: [mic(true), camera(true), { source: 'screen_share', isMuted: false }],
          }),
        ],
        [
          'u-a___s-a',
          participant('u-a___s-a', 1000, {
            attributes: { raised_hand: '1234' },
            speaking: true,
            tracks: [mic(false), camera(false)],
          }),
        ],
      ]),
      metadata: '{"host_id":"u-a"}',
    });
    expect(snapshot).toEqual({
      participants: [
        {
          userId: 'u-a',
          sessionId: 's-a',
          unmuted: true,
          raisedHand: 1234,
          video: true,
          speaking: true,
        },
        {
          userId: 'u-b',
          sessionId: 's-b',
          unmuted: true,
          raisedHand: 0,
          video: false,
          speaking: false,
        },
        // A muted microphone, and no microphone at all, are both muted; a muted camera is off.
        {
          userId: 'u-c',
          sessionId: 's-c',
          unmuted: false,
          raisedHand: 0,
          video: false,
          speaking: false,
        },
      ],
      hostId: 'u-a',
      screenSessionId: 's-c',
    });
    const alone = roomSnapshot({
      localParticipant: participant('u-b___s-b', undefined),
      remoteParticipants: new Map(),
    });
    expect(alone.participants).toEqual([
      {
        userId: 'u-b',
        sessionId: 's-b',
        unmuted: false,
        raisedHand: 0,
        video: false,
        speaking: false,
      },
    ]);
    expect(alone.hostId).toBe('');
    expect(alone.screenSessionId).toBe('');
  });

  it('a snapshot replaces the model; reactions survive it, voice activity only when left out', () => {
    const model = new CallModel();
    const base = { userId: 'u-a', sessionId: 's-a', unmuted: true, raisedHand: 0, video: false };
    model.replace({
      participants: [{ ...base, speaking: true }],
      hostId: 'u-a',
      screenSessionId: '',
    });
    expect(model.react('s-a', '🎉', 1000)).toBe(true);
    expect(model.react('s-unknown', '🎉', 1000)).toBe(false);

    model.replace({ participants: [base], hostId: '', screenSessionId: '' });
    expect(model.participants.get('s-a')).toMatchObject({
      speaking: true,
      reaction: { literal: '🎉', until: 7000 },
    });
    model.replace({
      participants: [{ ...base, speaking: false }],
      hostId: '',
      screenSessionId: '',
    });
    expect(model.participants.get('s-a')?.speaking).toBe(false);
    expect(model.expireReactions(7000)).toBe(true);
    expect(model.participants.get('s-a')?.reaction).toBeNull();
  });

  it("Mattermost's call_state and user_video_on/off say whose camera is on", () => {
    const model = new CallModel();
    model.applyCallState(
      JSON.stringify({
        sessions: [
          { session_id: 's-a', user_id: 'u-a', video: true },
          { session_id: 's-b', user_id: 'u-b' },
        ],
      }),
    );
    expect(model.participants.get('s-a')?.video).toBe(true);
    expect(model.participants.get('s-b')?.video).toBe(false);
    expect(model.apply('user_video_on', { session_id: 's-b' })).toBe(true);
    expect(model.apply('user_video_off', { session_id: 's-a' })).toBe(true);
    expect(model.apply('user_video_on', { session_id: 's-unknown' })).toBe(false);
    expect([...model.participants.values()].map((p) => p.video)).toEqual([false, true]);
    model.apply('user_left', { session_id: 's-b' });
    expect(model.participants.has('s-b')).toBe(false);
  });
});
