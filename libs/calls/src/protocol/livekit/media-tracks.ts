import { TrackSource, TrackType } from '@livekit/protocol';
import type { MediaTrack, MediaTrackType } from '../../media/media-plane.interface';
import type { SignalMessage } from './livekit-codec';
import { LiveKitIds } from './livekit-ids';
import { viewOfSession } from './participant-info.builder';
import type { TrackView } from './participant-view';
import type { RoomView } from './room-view';

/** The LiveKit source of each kind of media track (Mattermost's labels). */
const SOURCES: Readonly<Record<MediaTrackType, TrackSource>> = {
  voice: TrackSource.MICROPHONE,
  screen: TrackSource.SCREEN_SHARE,
  'screen-audio': TrackSource.SCREEN_SHARE_AUDIO,
  video: TrackSource.CAMERA,
};

/**
 * The `TR_` id of a media track: from its session and client track id (a LiveKit client's
 * `cid`, a Mattermost client's msid track id), the same on every instance. A section without an
 * msid is named by its mid.
 */
export function trackSidOf(track: Pick<MediaTrack, 'sessionId' | 'clientTrackId' | 'mid'>): string {
  return LiveKitIds.track(track.sessionId, track.clientTrackId || `mid:${track.mid}`);
}

/** A media track as LiveKit clients are shown it (source from its Mattermost label). */
export function trackViewOf(track: MediaTrack): TrackView {
  return {
    sid: trackSidOf(track),
    cid: track.clientTrackId,
    type: track.kind === 'audio' ? TrackType.AUDIO : TrackType.VIDEO,
    source: SOURCES[track.type],
    name: '',
    muted: track.paused,
    width: 0,
    height: 0,
    stream: '',
  };
}

/**
 * Shows another session's media track to a client, unless its view has it already: its
 * participant gets the track (the participant itself first when the view does not know it yet,
 * e.g. a piped track that came before the participant's join did). A client must be told of a
 * track before the subscriber offer that carries it.
 */
export function showTrack(view: RoomView, track: MediaTrack): SignalMessage[] {
  if (track.sessionId === view.self.sessionId) return [];
  const sid = trackSidOf(track);
  const out: SignalMessage[] = [];
  if (!view.get(track.sessionId)) {
    const session = {
      sessionId: track.sessionId,
      userId: track.userId,
      unmuted: false,
      raisedHand: 0,
      video: false,
      joinAt: Date.now(),
      instanceId: '',
    };
    out.push(...view.addIfUnknown(viewOfSession(session, view.toWire)));
  }
  if (view.get(track.sessionId)?.tracks.some((t) => t.sid === sid)) return out;
  const shown = trackViewOf(track);
  out.push(
    ...view.patch(track.sessionId, (v) => ({
      ...v,
      tracks: [...v.tracks, { ...shown, muted: mutedAs(v, shown) }],
    })),
  );
  return out;
}

/** A session's track ended: its participant no longer shows it. */
export function hideTrack(view: RoomView, sessionId: string, trackSid: string): SignalMessage[] {
  return view.patch(
    sessionId,
    (v) => ({ ...v, tracks: v.tracks.filter((t) => t.sid !== trackSid) }),
    (before) => !before.tracks.some((t) => t.sid === trackSid),
  );
}

/**
 * A session's track was paused or resumed: shown as its `muted` (the microphone's follows the
 * session's mute, from the core's `muted` event, not from its media).
 */
export function pauseTrack(
  view: RoomView,
  sessionId: string,
  trackSid: string,
  paused: boolean,
): SignalMessage[] {
  const changes = (t: TrackView) =>
    t.sid === trackSid && t.source !== TrackSource.MICROPHONE && t.muted !== paused;
  return view.patch(
    sessionId,
    (v) => ({ ...v, tracks: v.tracks.map((t) => (changes(t) ? { ...t, muted: paused } : t)) }),
    (before) => !before.tracks.some(changes),
  );
}

/** A microphone shows the session's mute; other tracks their own pause. */
function mutedAs(participant: { readonly unmuted: boolean }, track: TrackView): boolean {
  return track.source === TrackSource.MICROPHONE ? !participant.unmuted : track.muted;
}
