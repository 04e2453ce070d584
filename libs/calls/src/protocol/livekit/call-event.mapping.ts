import {
  DisconnectReason,
  LeaveRequest_Action,
  TrackSource,
  TrackUnpublishedResponse,
} from '@livekit/protocol';
import type { CallEvent, CallEventType } from '../../calls/call-events';
import type { SignalMessage } from './livekit-codec';
import {
  hostControlPacket,
  type LiveKitDataChannel,
  reactionPacket,
  RELIABLE_CHANNEL,
} from './livekit-data';
import { formatIdentity } from './livekit-identity';
import { LiveKitIds } from './livekit-ids';
import { LiveKitMessages } from './livekit-messages';
import { viewOfSession } from './participant-info.builder';
import {
  mergeAttributes,
  micTrack,
  type ParticipantView,
  RAISED_HAND_ATTRIBUTE,
  withMicMuted,
} from './participant-view';
import type { RoomView } from './room-view';

/** How a LiveKit client's connection ends after an event. */
export interface LiveKitEnd {
  readonly reason: DisconnectReason;
  /** Whether the session leaves the call now (else it waits for the client to come back). */
  readonly leaveCall: boolean;
  /** The client was told to reconnect (it closes the connection itself). */
  readonly reconnect?: boolean;
}

/** A data packet for the client (an encoded `DataPacket`) and the channel it goes on. */
export interface LiveKitData {
  readonly label: LiveKitDataChannel;
  readonly payload: Uint8Array;
}

/** What a LiveKit client is sent for a call event, and whether its connection ends. */
export interface LiveKitReaction {
  readonly messages: readonly SignalMessage[];
  /** Data packets for the client (on its data channels). */
  readonly data?: readonly LiveKitData[];
  /** Tracks of the client's own the server stops forwarding (it is told to unpublish them). */
  readonly stopTracks?: readonly string[];
  readonly end?: LiveKitEnd;
}

/**
 * The call events a LiveKit client is told about. The others are Mattermost's alone (`call-state`,
 * `joined`, `notification-dismissed`, media `signal`s of the socket.io media path) or reach
 * LiveKit clients as media: `screen` and `video` (the tracks themselves).
 */
export const LIVEKIT_EVENT_TYPES: ReadonlySet<CallEventType> = new Set<CallEventType>([
  'session-joined',
  'session-left',
  'host-changed',
  'muted',
  'hand',
  'voice',
  'host-muted',
  'host-removed',
  'reacted',
  'host-stopped-screen',
  'call-ended',
  'draining',
]);

const NOTHING: LiveKitReaction = { messages: [] };

/**
 * A call event in a LiveKit client's terms, applied to its room view: participants joining and
 * leaving (`update`, DISCONNECTED on leave), the host (`room_update` metadata), mute (the
 * microphone track's `muted`; a server `mute` when the server muted this client), a hand (the
 * `raised_hand` attribute), voice (`speakers_changed` delta), a reaction of another participant
 * (a data packet, topic `reaction`, from that participant), the host stopping this client's
 * screen share (a `host_control` data packet, `track_unpublished` of its screen tracks), and the
 * ends: removed by the host (`leave` PARTICIPANT_REMOVED), call ended (`leave` ROOM_DELETED),
 * instance draining (`leave` SERVER_SHUTDOWN with action RECONNECT: the client rejoins,
 * elsewhere).
 */
export function reactToCallEvent(view: RoomView, event: CallEvent): LiveKitReaction {
  const self = view.self.sessionId;
  switch (event.type) {
    case 'session-joined': {
      if (event.sessionId === self) return NOTHING;
      const session = {
        sessionId: event.sessionId,
        userId: event.userId,
        unmuted: false,
        raisedHand: 0,
        video: false,
        joinAt: Date.now(),
        instanceId: '',
      };
      return { messages: view.joined(viewOfSession(session, view.toWire)) };
    }
    case 'session-left':
      if (event.sessionId === self) return NOTHING;
      return { messages: view.remove(event.sessionId, DisconnectReason.CLIENT_INITIATED) };
    case 'host-changed':
      return { messages: view.setHost(event.call.hostId) };
    case 'muted':
      return { messages: muted(view, event.sessionId, event.muted) };
    case 'hand':
      return { messages: hand(view, event.sessionId, event.raisedHand) };
    case 'voice':
      if (!view.get(event.sessionId)) return NOTHING;
      return {
        messages: [
          LiveKitMessages.speaker(LiveKitIds.participant(event.sessionId), event.speaking),
        ],
      };
    case 'host-muted':
      return event.sessionId === self ? { messages: muted(view, self, true) } : NOTHING;
    case 'reacted': {
      if (event.sessionId === self) return NOTHING;
      const identity =
        view.get(event.sessionId)?.identity ??
        formatIdentity(view.toWire(event.userId), event.sessionId);
      const sender = { participantSid: LiveKitIds.participant(event.sessionId), identity };
      const payload = reactionPacket(sender, event.emoji, event.timestamp);
      return { messages: [], data: [{ label: RELIABLE_CHANNEL, payload }] };
    }
    case 'host-stopped-screen':
      return event.sessionId === self ? stopScreen(view) : NOTHING;
    case 'host-removed':
      return event.sessionId === self ? ending(DisconnectReason.PARTICIPANT_REMOVED) : NOTHING;
    case 'call-ended':
      return ending(DisconnectReason.ROOM_DELETED);
    case 'draining':
      if (event.sessionId !== self) return NOTHING;
      return {
        messages: [
          LiveKitMessages.leave(DisconnectReason.SERVER_SHUTDOWN, LeaveRequest_Action.RECONNECT),
        ],
        end: { reason: DisconnectReason.SERVER_SHUTDOWN, leaveCall: false, reconnect: true },
      };
    default:
      return NOTHING;
  }
}

/** The host stopped this client's screen share (Mattermost's `host_control` request). */
function stopScreen(view: RoomView): LiveKitReaction {
  const screens = [...view.self.tracks, ...view.pending.values()].filter(
    (t) => t.source === TrackSource.SCREEN_SHARE || t.source === TrackSource.SCREEN_SHARE_AUDIO,
  );
  const sids = [...new Set(screens.map((t) => t.sid))];
  return {
    messages: sids.map((trackSid) => ({
      case: 'trackUnpublished',
      value: new TrackUnpublishedResponse({ trackSid }),
    })),
    data: [{ label: RELIABLE_CHANNEL, payload: hostControlPacket('stop_screenshare') }],
    stopTracks: sids,
  };
}

function ending(reason: DisconnectReason): LiveKitReaction {
  return { messages: [LiveKitMessages.leave(reason)], end: { reason, leaveCall: true } };
}

/**
 * Mute of a session: its microphone track's `muted`. This client's own microphone muted by the
 * server (not by the client itself, whose track already says so) also gets a server `mute`, which
 * makes the client mute its track.
 */
function muted(view: RoomView, sessionId: string, isMuted: boolean): SignalMessage[] {
  const change = (v: ParticipantView) => withMicMuted(v, isMuted);
  if (sessionId !== view.self.sessionId) {
    // Only a microphone track shows mute to a LiveKit client.
    return view.patch(sessionId, change, (before) => {
      const mic = micTrack(before);
      return !mic || mic.muted === isMuted;
    });
  }
  const mic = view.ownMic();
  const told = mic && mic.muted !== isMuted ? [LiveKitMessages.mute(mic.sid, isMuted)] : [];
  if (mic) view.setOwnTrackMuted(mic.sid, isMuted);
  if (told.length === 0 && view.self.unmuted === !isMuted) return [];
  return [...told, ...view.patchSelf(change)];
}

/**
 * A hand as the `raised_hand` attribute: when it went up, '' when down. This client's own keeps
 * the value its client set (`setAttributes` waits to see exactly that value).
 */
function hand(view: RoomView, sessionId: string, raisedHand: number): SignalMessage[] {
  const own = sessionId === view.self.sessionId;
  const change = (v: ParticipantView): ParticipantView => {
    const current = v.attributes[RAISED_HAND_ATTRIBUTE] ?? '';
    const up = own && current !== '' ? current : String(raisedHand);
    return {
      ...v,
      attributes: mergeAttributes(v.attributes, { [RAISED_HAND_ATTRIBUTE]: raisedHand ? up : '' }),
    };
  };
  return own ? view.patchSelf(change) : view.patch(sessionId, change);
}
