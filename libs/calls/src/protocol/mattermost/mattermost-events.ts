import type { CallEvent } from '../../calls/call-events';
import type { ServerEvent } from './calls-events';
import type { MattermostWire } from './mattermost-wire';

/** A call event as Mattermost sends it: the event name (without prefix) and its data. */
export interface MattermostEvent {
  readonly name: ServerEvent;
  readonly data: Record<string, unknown>;
}

/**
 * The Mattermost calls event for a core {@link CallEvent}, field for field as Mattermost's
 * server sends it (ids in wire form with `*_raw` twins).
 */
export function mattermostEvent(wire: MattermostWire, event: CallEvent): MattermostEvent {
  switch (event.type) {
    case 'joined':
      return { name: 'join', data: { connID: event.sessionId } };
    case 'call-started':
      return { name: 'call_start', data: wire.callStart(event.call) };
    case 'call-state':
      return {
        name: 'call_state',
        data: {
          channel_id: wire.id(event.call.channelId),
          call: JSON.stringify(wire.callState(event.call, event.forUserId)),
        },
      };
    case 'session-joined':
      return { name: 'user_joined', data: wire.userAndSession(event.userId, event.sessionId) };
    case 'session-left':
      return { name: 'user_left', data: wire.userAndSession(event.userId, event.sessionId) };
    case 'host-changed':
      return {
        name: 'call_host_changed',
        data: {
          hostID: wire.id(event.call.hostId),
          host_id_raw: event.call.hostId,
          call_id: wire.id(event.call.id),
          call_id_raw: event.call.id,
        },
      };
    case 'muted':
      return {
        name: event.muted ? 'user_muted' : 'user_unmuted',
        data: wire.userIdAndSession(event.userId, event.sessionId),
      };
    case 'hand':
      return {
        name: event.raisedHand > 0 ? 'user_raise_hand' : 'user_unraise_hand',
        data: {
          ...wire.userIdAndSession(event.userId, event.sessionId),
          raised_hand: event.raisedHand,
        },
      };
    case 'reacted':
      return {
        name: 'user_reacted',
        data: {
          ...wire.userAndSession(event.userId, event.sessionId),
          emoji: event.emoji,
          timestamp: event.timestamp,
        },
      };
    case 'screen':
      return {
        name: event.on ? 'user_screen_on' : 'user_screen_off',
        data: wire.userIdAndSession(event.userId, event.sessionId),
      };
    case 'video':
      return {
        name: event.on ? 'user_video_on' : 'user_video_off',
        data: wire.userIdAndSession(event.userId, event.sessionId),
      };
    case 'voice':
      return {
        name: event.speaking ? 'user_voice_on' : 'user_voice_off',
        data: wire.userIdAndSession(event.userId, event.sessionId),
      };
    case 'signal':
      // Mattermost's `connID` + `data` (a JSON string, which stock clients act on for
      // answer/offer/candidate), and the seed's fields with the same signal as an object.
      return {
        name: 'signal',
        data: {
          connID: event.sessionId,
          data: JSON.stringify(event.signal),
          channel_id: wire.id(event.channelId),
          channel_id_raw: event.channelId,
          user_id: wire.id(event.userId),
          user_id_raw: event.userId,
          session_id: event.sessionId,
          session_id_raw: event.sessionId,
          signal: event.signal,
        },
      };
    case 'host-muted':
      return {
        name: 'host_mute',
        data: { channel_id: wire.id(event.channelId), session_id: event.sessionId },
      };
    case 'host-stopped-screen':
      return {
        name: 'host_screen_off',
        data: { channel_id: wire.id(event.channelId), session_id: event.sessionId },
      };
    case 'host-lowered-hand':
      return {
        name: 'host_lower_hand',
        data: {
          call_id: wire.id(event.call.id),
          channel_id: wire.id(event.call.channelId),
          session_id: event.sessionId,
          host_id: wire.id(event.hostId),
        },
      };
    case 'host-removed':
      return {
        name: 'host_removed',
        data: {
          call_id: wire.id(event.call.id),
          channel_id: wire.id(event.call.channelId),
          session_id: event.sessionId,
          user_id: wire.id(event.userId),
        },
      };
    case 'call-ended':
      return {
        name: 'call_end',
        data: { id: wire.id(event.call.id), call_id: wire.id(event.call.id) },
      };
    case 'notification-dismissed':
      return {
        name: 'user_dismissed_notification',
        data: { userID: wire.id(event.userId), callID: wire.id(event.callId) },
      };
    case 'draining':
      return { name: 'server_draining', data: { connID: event.sessionId, reason: event.reason } };
  }
}
