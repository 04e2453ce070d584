import {
  DisconnectReason,
  LeaveRequest,
  LeaveRequest_Action,
  MuteTrackRequest,
  ParticipantUpdate,
  type ParticipantInfo,
  Pong,
  RequestResponse,
  RequestResponse_Reason,
  type Room,
  RoomUpdate,
  SpeakerInfo,
  SpeakersChanged,
} from '@livekit/protocol';
import type { SignalMessage } from './livekit-codec';

/** Server messages, one builder each (`SignalResponse.message` values). */
export const LiveKitMessages = {
  update: (participants: ParticipantInfo[]): SignalMessage => ({
    case: 'update',
    value: new ParticipantUpdate({ participants }),
  }),
  leave: (
    reason: DisconnectReason,
    action: LeaveRequest_Action = LeaveRequest_Action.DISCONNECT,
  ): SignalMessage => ({
    case: 'leave',
    value: new LeaveRequest({
      reason,
      action,
      canReconnect: action !== LeaveRequest_Action.DISCONNECT,
    }),
  }),
  mute: (trackSid: string, muted: boolean): SignalMessage => ({
    case: 'mute',
    value: new MuteTrackRequest({ sid: trackSid, muted }),
  }),
  pong: (timestamp: bigint): SignalMessage => ({ case: 'pong', value: timestamp }),
  pongResp: (lastPingTimestamp: bigint, now = Date.now()): SignalMessage => ({
    case: 'pongResp',
    value: new Pong({ lastPingTimestamp, timestamp: BigInt(now) }),
  }),
  refreshToken: (token: string): SignalMessage => ({ case: 'refreshToken', value: token }),
  /** A refused request (`request_id` echoed). */
  refused: (
    requestId: number,
    reason: RequestResponse_Reason,
    message: string,
    request?: RequestResponse['request'],
  ): SignalMessage => ({
    case: 'requestResponse',
    value: new RequestResponse({ requestId, reason, message, request }),
  }),
  speaker: (participantSid: string, active: boolean): SignalMessage => ({
    case: 'speakersChanged',
    value: new SpeakersChanged({
      speakers: [new SpeakerInfo({ sid: participantSid, level: active ? 1 : 0, active })],
    }),
  }),
  roomUpdate: (room: Room): SignalMessage => ({
    case: 'roomUpdate',
    value: new RoomUpdate({ room }),
  }),
} as const;
