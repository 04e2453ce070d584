import {
  DataPacket,
  DisconnectReason,
  LeaveRequest_Action,
  ParticipantInfo_State,
  TrackSource,
  TrackType,
} from '@livekit/protocol';
import type { CallSessionState, CallState } from '../../state/call-state.types';
import { reactToCallEvent } from './call-event.mapping';
import type { SignalMessage } from './livekit-codec';
import type { ParticipantView, TrackView } from './participant-view';
import { RoomView } from './room-view';

const session = (sessionId: string, userId: string, extra: Partial<CallSessionState> = {}) => ({
  sessionId,
  userId,
  unmuted: false,
  raisedHand: 0,
  video: false,
  joinAt: 1000,
  instanceId: 'i1',
  ...extra,
});

const call = (sessions: CallSessionState[], hostId = 'u1'): CallState => ({
  version: 1,
  id: 'call1',
  channelId: 'ch1',
  startAt: 1,
  ownerId: 'u1',
  hostId,
  hostLockedUserId: '',
  threadId: '',
  postId: '',
  title: '',
  screenSharingSessionId: '',
  screenStartAt: 0,
  dismissedNotification: {},
  sessions: Object.fromEntries(sessions.map((s) => [s.sessionId, s])),
});

const mic = (sid: string, muted: boolean): TrackView => ({
  sid,
  cid: `c-${sid}`,
  type: TrackType.AUDIO,
  source: TrackSource.MICROPHONE,
  name: 'mic',
  muted,
  width: 0,
  height: 0,
  stream: '',
});

const selfView = (tracks: TrackView[] = []): ParticipantView => ({
  sessionId: 's1',
  identity: 'U1___s1',
  name: 'Ann',
  metadata: '',
  attributes: {},
  tracks,
  joinedAtMs: 1000,
  unmuted: false,
  permission: {
    canPublish: true,
    canSubscribe: true,
    canPublishData: true,
    canPublishSources: [],
    canUpdateOwnMetadata: true,
    hidden: false,
  },
});

/** A view for session s1 of user u1, with user u2's session s2 in the call (wire ids upper-cased). */
function room(tracks: TrackView[] = []): RoomView {
  const view = new RoomView(selfView(tracks), 'call1', 'CH1', (id) => id.toUpperCase());
  view.seed(call([session('s1', 'u1'), session('s2', 'u2', { raisedHand: 5 })]), []);
  return view;
}

const updates = (messages: readonly SignalMessage[]) =>
  messages.flatMap((m) => (m.case === 'update' ? m.value.participants : []));

describe('call events in a LiveKit client’s terms', () => {
  it('seeds others from the call state: identity userID___sessionID, name = user id, raised_hand', () => {
    const infos = room().otherInfos();
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({
      sid: 'PA_s2',
      identity: 'U2___s2',
      name: 'U2',
      attributes: { raised_hand: '5' },
      state: ParticipantInfo_State.ACTIVE,
    });
    expect(JSON.parse(room().room().metadata)).toEqual({ host_id: 'U1' });
  });

  it('session-joined adds a participant once; session-left disconnects it and a late view cannot bring it back', () => {
    const view = room();
    const joined = reactToCallEvent(view, {
      type: 'session-joined',
      userId: 'u3',
      sessionId: 's3',
    });
    expect(updates(joined.messages)).toEqual([
      expect.objectContaining({ sid: 'PA_s3', identity: 'U3___s3', version: 1 }),
    ]);
    expect(
      reactToCallEvent(view, { type: 'session-joined', userId: 'u3', sessionId: 's3' }).messages,
    ).toEqual([]);
    expect(
      reactToCallEvent(view, { type: 'session-joined', userId: 'u1', sessionId: 's1' }).messages,
    ).toEqual([]);
    const left = reactToCallEvent(view, { type: 'session-left', userId: 'u3', sessionId: 's3' });
    expect(updates(left.messages)).toEqual([
      expect.objectContaining({
        sid: 'PA_s3',
        state: ParticipantInfo_State.DISCONNECTED,
        disconnectReason: DisconnectReason.CLIENT_INITIATED,
        version: 2,
      }),
    ]);
    const late = { ...selfView(), sessionId: 's3', identity: 'U3___s3' };
    expect(view.upsert(late)).toEqual([]);
    // The same session joining again (a LiveKit client's full reconnect) is shown again.
    const again = reactToCallEvent(view, { type: 'session-joined', userId: 'u3', sessionId: 's3' });
    expect(updates(again.messages)).toEqual([
      expect.objectContaining({ sid: 'PA_s3', state: ParticipantInfo_State.ACTIVE, version: 1 }),
    ]);
  });

  it('bumps the version of every info of a participant', () => {
    const view = room();
    const a = updates(
      reactToCallEvent(view, { type: 'hand', userId: 'u2', sessionId: 's2', raisedHand: 9 })
        .messages,
    );
    const b = updates(
      reactToCallEvent(view, { type: 'hand', userId: 'u2', sessionId: 's2', raisedHand: 0 })
        .messages,
    );
    expect(a[0].attributes).toEqual({ raised_hand: '9' });
    expect(b[0].attributes).toEqual({});
    expect(b[0].version).toBeGreaterThan(a[0].version);
  });

  it('a hand of this client keeps the value its client set', () => {
    const view = room();
    view.replaceSelf((v) => ({ ...v, attributes: { raised_hand: '123' } }));
    const up = updates(
      reactToCallEvent(view, { type: 'hand', userId: 'u1', sessionId: 's1', raisedHand: 999 })
        .messages,
    );
    expect(up[0]).toMatchObject({ sid: 'PA_s1', attributes: { raised_hand: '123' } });
    const down = updates(
      reactToCallEvent(view, { type: 'hand', userId: 'u1', sessionId: 's1', raisedHand: 0 })
        .messages,
    );
    expect(down[0].attributes).toEqual({});
  });

  it('mute: another participant’s microphone track, or nothing without one; this client’s own gets a server mute', () => {
    const view = room([mic('TR_a', false)]);
    expect(
      reactToCallEvent(view, { type: 'muted', userId: 'u2', sessionId: 's2', muted: false })
        .messages,
    ).toEqual([]);
    view.upsert({ ...view.get('s2')!, tracks: [mic('TR_b', true)] });
    const other = updates(
      reactToCallEvent(view, { type: 'muted', userId: 'u2', sessionId: 's2', muted: false })
        .messages,
    );
    expect(other[0].tracks[0]).toMatchObject({ sid: 'TR_b', muted: false });

    const own = reactToCallEvent(view, {
      type: 'host-muted',
      channelId: 'ch1',
      sessionId: 's1',
    }).messages;
    expect(own[0]).toEqual({
      case: 'mute',
      value: expect.objectContaining({ sid: 'TR_a', muted: true }),
    });
    // The core's `muted` that follows changes nothing more the client must do.
    const after = reactToCallEvent(view, {
      type: 'muted',
      userId: 'u1',
      sessionId: 's1',
      muted: true,
    }).messages;
    expect(after.filter((m) => m.case === 'mute')).toEqual([]);
  });

  it('an announced (not yet published) microphone is muted by the server too', () => {
    const view = room();
    view.pending.set('TR_p', mic('TR_p', false));
    const messages = reactToCallEvent(view, {
      type: 'host-muted',
      channelId: 'ch1',
      sessionId: 's1',
    }).messages;
    expect(messages[0]).toEqual({
      case: 'mute',
      value: expect.objectContaining({ sid: 'TR_p', muted: true }),
    });
    expect(view.pending.get('TR_p')?.muted).toBe(true);
  });

  it('voice is a speakers_changed delta; host changes are room updates', () => {
    const view = room();
    const voice = reactToCallEvent(view, {
      type: 'voice',
      userId: 'u2',
      sessionId: 's2',
      speaking: true,
    });
    expect(voice.messages[0]).toMatchObject({
      case: 'speakersChanged',
      value: { speakers: [expect.objectContaining({ sid: 'PA_s2', active: true, level: 1 })] },
    });
    const host = reactToCallEvent(view, { type: 'host-changed', call: call([], 'u2') });
    expect(host.messages[0].case).toBe('roomUpdate');
    expect(reactToCallEvent(view, { type: 'host-changed', call: call([], 'u2') }).messages).toEqual(
      [],
    );
  });

  it('ends: removed by the host, call ended, instance draining (reconnect elsewhere)', () => {
    const c = call([]);
    const removed = reactToCallEvent(room(), {
      type: 'host-removed',
      call: c,
      userId: 'u1',
      sessionId: 's1',
    });
    expect(removed.end).toEqual({ reason: DisconnectReason.PARTICIPANT_REMOVED, leaveCall: true });
    expect(removed.messages[0]).toMatchObject({
      case: 'leave',
      value: { reason: DisconnectReason.PARTICIPANT_REMOVED },
    });
    expect(
      reactToCallEvent(room(), { type: 'host-removed', call: c, userId: 'u2', sessionId: 's2' })
        .end,
    ).toBeUndefined();
    expect(reactToCallEvent(room(), { type: 'call-ended', call: c }).end?.reason).toBe(
      DisconnectReason.ROOM_DELETED,
    );
    const draining = reactToCallEvent(room(), { type: 'draining', sessionId: 's1', reason: 'bye' });
    expect(draining.end).toEqual({
      reason: DisconnectReason.SERVER_SHUTDOWN,
      leaveCall: false,
      reconnect: true,
    });
    expect(draining.messages[0]).toMatchObject({
      case: 'leave',
      value: { action: LeaveRequest_Action.RECONNECT },
    });
  });

  it("another participant's reaction is a data packet from that participant, topic reaction; one's own is not echoed", () => {
    const emoji = { name: 'thumbsup', unified: '1f44d', literal: '👍' };
    const reacted = reactToCallEvent(room(), {
      type: 'reacted',
      userId: 'u2',
      sessionId: 's2',
      emoji,
      timestamp: 42,
    });
    expect(reacted.messages).toEqual([]);
    expect(reacted.data).toHaveLength(1);
    expect(reacted.data?.[0].label).toBe('_reliable');
    const packet = DataPacket.fromBinary(reacted.data?.[0].payload ?? new Uint8Array());
    expect(packet).toMatchObject({ participantSid: 'PA_s2', participantIdentity: 'U2___s2' });
    expect(packet.value.case).toBe('user');
    const user = packet.value.case === 'user' ? packet.value.value : null;
    expect(user?.topic).toBe('reaction');
    expect(JSON.parse(new TextDecoder().decode(user?.payload))).toEqual({
      emojiData: emoji,
      timestamp: 42,
    });
    const own = { type: 'reacted', userId: 'u1', sessionId: 's1', emoji, timestamp: 1 } as const;
    expect(reactToCallEvent(room(), own)).toEqual({ messages: [] });
  });

  it("the host stopping this client's screen: host_control data packet, its screen tracks unpublished and stopped", () => {
    const screen: TrackView = {
      ...mic('TR_screen', false),
      type: TrackType.VIDEO,
      source: TrackSource.SCREEN_SHARE,
    };
    const view = room([mic('TR_mic', false), screen]);
    const stop = { type: 'host-stopped-screen', channelId: 'ch1', sessionId: 's1' } as const;
    const reaction = reactToCallEvent(view, stop);
    expect(reaction.messages).toEqual([
      { case: 'trackUnpublished', value: expect.objectContaining({ trackSid: 'TR_screen' }) },
    ]);
    expect(reaction.stopTracks).toEqual(['TR_screen']);
    const packet = DataPacket.fromBinary(reaction.data?.[0].payload ?? new Uint8Array());
    expect(packet.participantIdentity).toBe('');
    const user = packet.value.case === 'user' ? packet.value.value : null;
    expect(user?.topic).toBe('host_control');
    expect(JSON.parse(new TextDecoder().decode(user?.payload))).toEqual({
      action: 'stop_screenshare',
    });
    expect(reactToCallEvent(view, { ...stop, sessionId: 's2' })).toEqual({ messages: [] });
  });

  it('ignores what LiveKit clients are not told (or see as media)', () => {
    for (const event of [
      { type: 'screen', userId: 'u2', sessionId: 's2', on: true },
      { type: 'call-state', call: call([]), forUserId: 'u1' },
      { type: 'joined', sessionId: 's1' },
    ] as const) {
      expect(reactToCallEvent(room(), event)).toEqual({ messages: [] });
    }
  });
});
