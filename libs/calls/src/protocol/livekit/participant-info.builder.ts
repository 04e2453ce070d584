import {
  DisconnectReason,
  ParticipantInfo,
  ParticipantInfo_State,
  ParticipantPermission,
  TrackInfo,
  VideoLayer,
} from '@livekit/protocol';
import type { CallSessionState } from '../../state/call-state.types';
import { formatIdentity } from './livekit-identity';
import { LiveKitIds } from './livekit-ids';
import type { LiveKitGrants } from './livekit-grants';
import { type ParticipantView, RAISED_HAND_ATTRIBUTE, type TrackView } from './participant-view';

/** A Mattermost session's permission as LiveKit clients are shown it (it publishes, no data). */
const MATTERMOST_PERMISSION: LiveKitGrants = {
  canPublish: true,
  canSubscribe: true,
  canPublishData: false,
  canPublishSources: [],
  canUpdateOwnMetadata: false,
  hidden: false,
};

/**
 * The view of a session from the call state (any protocol): identity `userID___sessionID`, name =
 * the user id (Mattermost's convention), `raised_hand` from the hand, no tracks (tracks come with
 * media).
 */
export function viewOfSession(
  session: CallSessionState,
  toWire: (internalId: string) => string,
): ParticipantView {
  const userId = toWire(session.userId);
  return {
    sessionId: session.sessionId,
    identity: formatIdentity(userId, session.sessionId),
    name: userId,
    metadata: '',
    attributes:
      session.raisedHand > 0 ? { [RAISED_HAND_ATTRIBUTE]: String(session.raisedHand) } : {},
    tracks: [],
    joinedAtMs: session.joinAt,
    unmuted: session.unmuted,
  };
}

/** LiveKit's `ParticipantPermission` of grants. */
export function participantPermission(grants: LiveKitGrants): ParticipantPermission {
  return new ParticipantPermission({
    canPublish: grants.canPublish,
    canSubscribe: grants.canSubscribe,
    canPublishData: grants.canPublishData,
    canPublishSources: [...grants.canPublishSources],
    canUpdateMetadata: grants.canUpdateOwnMetadata,
    hidden: grants.hidden,
  });
}

/** A track's `TrackInfo`. */
export function trackInfo(track: TrackView): TrackInfo {
  return new TrackInfo({
    sid: track.sid,
    type: track.type,
    source: track.source,
    name: track.name,
    muted: track.muted,
    width: track.width,
    height: track.height,
    stream: track.stream,
    simulcast: (track.layers?.length ?? 0) > 1,
    layers: (track.layers ?? []).map((l) => new VideoLayer({ ...l })),
  });
}

/** A participant's `ParticipantInfo` at a version (clients drop infos older than the last). */
export function participantInfo(
  view: ParticipantView,
  version: number,
  state: ParticipantInfo_State = ParticipantInfo_State.ACTIVE,
  disconnectReason: DisconnectReason = DisconnectReason.UNKNOWN_REASON,
): ParticipantInfo {
  return new ParticipantInfo({
    sid: LiveKitIds.participant(view.sessionId),
    identity: view.identity,
    name: view.name,
    state,
    tracks: view.tracks.map(trackInfo),
    metadata: view.metadata,
    joinedAt: BigInt(Math.floor(view.joinedAtMs / 1000)),
    joinedAtMs: BigInt(view.joinedAtMs),
    version,
    permission: participantPermission(view.permission ?? MATTERMOST_PERMISSION),
    isPublisher: view.tracks.length > 0,
    attributes: { ...view.attributes },
    disconnectReason,
  });
}
