import { TrackSource, TrackType } from '@livekit/protocol';
import type { MediaTrack } from '../../media/media-plane.interface';
import type { SignalMessage } from './livekit-codec';
import { LiveKitIds } from './livekit-ids';
import { hideTrack, pauseTrack, showTrack, trackSidOf, trackViewOf } from './media-tracks';
import type { ParticipantView } from './participant-view';
import { RoomView } from './room-view';

const track = (over: Partial<MediaTrack> = {}): MediaTrack => ({
  producerId: 'p2',
  callId: 'call1',
  sessionId: 's2',
  userId: 'u2',
  kind: 'audio',
  type: 'voice',
  clientTrackId: 'cid-2',
  streamId: 'stream-2',
  mid: '0',
  paused: false,
  ...over,
});

const self: ParticipantView = {
  sessionId: 's1',
  identity: 'U1___s1',
  name: 'Ann',
  metadata: '',
  attributes: {},
  tracks: [],
  joinedAtMs: 1,
  unmuted: false,
};

const room = () => new RoomView(self, 'call1', 'CH1', (id) => id.toUpperCase());
const updates = (messages: readonly SignalMessage[]) =>
  messages.flatMap((m) => (m.case === 'update' ? m.value.participants : []));

describe('media tracks in a LiveKit room view', () => {
  it('names a track by its session and client track id (its mid without one)', () => {
    expect(trackSidOf(track())).toBe(LiveKitIds.track('s2', 'cid-2'));
    expect(trackSidOf(track({ clientTrackId: '', mid: '3' }))).toBe(
      LiveKitIds.track('s2', 'mid:3'),
    );
  });

  it.each([
    ['voice', 'audio', TrackSource.MICROPHONE, TrackType.AUDIO],
    ['screen', 'video', TrackSource.SCREEN_SHARE, TrackType.VIDEO],
    ['screen-audio', 'audio', TrackSource.SCREEN_SHARE_AUDIO, TrackType.AUDIO],
    ['video', 'video', TrackSource.CAMERA, TrackType.VIDEO],
  ] as const)('shows a %s track as source %s', (type, kind, source, trackType) => {
    expect(trackViewOf(track({ type, kind }))).toMatchObject({ source, type: trackType });
  });

  it("shows another session's track once (its participant first when unknown), never one's own", () => {
    const view = room();
    const first = updates(showTrack(view, track()));
    expect(first.map((p) => [p.sid, p.tracks.map((t) => t.sid)])).toEqual([
      ['PA_s2', []],
      ['PA_s2', [trackSidOf(track())]],
    ]);
    expect(first[1].identity).toBe('U2___s2');
    // The session is muted (as it joined): its microphone shows it.
    expect(first[1].tracks[0].muted).toBe(true);
    expect(showTrack(view, track())).toEqual([]);
    expect(showTrack(view, track({ sessionId: 's1', producerId: 'p1' }))).toEqual([]);
  });

  it('hides an ended track; pauses show on tracks other than the microphone', () => {
    const view = room();
    const screen = track({ producerId: 'p3', type: 'screen', kind: 'video', clientTrackId: 'c3' });
    showTrack(view, track());
    showTrack(view, screen);

    expect(pauseTrack(view, 's2', trackSidOf(track()), true)).toEqual([]);
    const paused = updates(pauseTrack(view, 's2', trackSidOf(screen), true));
    expect(paused[0].tracks.find((t) => t.sid === trackSidOf(screen))?.muted).toBe(true);
    expect(pauseTrack(view, 's2', trackSidOf(screen), true)).toEqual([]);

    const hidden = updates(hideTrack(view, 's2', trackSidOf(screen)));
    expect(hidden[0].tracks.map((t) => t.sid)).toEqual([trackSidOf(track())]);
    expect(hideTrack(view, 's2', trackSidOf(screen))).toEqual([]);
  });
});
