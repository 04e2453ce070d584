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

/**
 * The messages with each run of consecutive `update`s made one `update` (LiveKit's own batching:
 * a client applies an update's participants in order). A participant that would appear twice
 * starts a new `update`, so each message names a participant once. Other messages keep their place.
 */
export function coalesceUpdates(messages: readonly SignalMessage[]): SignalMessage[] {
  const out: (SignalMessage | ParticipantInfo[])[] = [];
  let run: { participants: ParticipantInfo[]; sids: Set<string> } | null = null;
  for (const message of messages) {
    if (message.case !== 'update') {
      run = null;
      out.push(message);
      continue;
    }
    const participants = message.value.participants;
    if (run && participants.every((p) => !run!.sids.has(p.sid))) {
      run.participants.push(...participants);
      for (const p of participants) run.sids.add(p.sid);
      continue;
    }
    run = { participants: [...participants], sids: new Set(participants.map((p) => p.sid)) };
    out.push(run.participants);
  }
  return out.map((m) => (Array.isArray(m) ? LiveKitMessages.update(m) : m));
}
