import { Injectable } from '@nestjs/common';
import { type CallsIdCodec, InjectCallsIdCodec } from '../../identity/id-codec.interface';
import { InvalidMessageError } from '../../errors/invalid-message.error';
import { assertValidId } from '../../state/call-state.codec';
import type { CallSessionState, CallState } from '../../state/call-state.types';

/** One session in Mattermost's `CallStateClient.sessions`. */
export interface MattermostSession {
  session_id: string;
  user_id: string;
  user_id_raw: string;
  unmuted: boolean;
  raised_hand: number;
  video: boolean;
}

/** Mattermost's `CallStateClient` (GET /{channel_id}, /channels, `call_state`), plus `*_raw` twins. */
export interface MattermostCallState {
  id: string;
  id_raw: string;
  channel_id: string;
  channel_id_raw: string;
  start_at: number;
  sessions: MattermostSession[];
  thread_id: string;
  post_id: string;
  screen_sharing_session_id: string;
  owner_id: string;
  host_id: string;
  host_id_raw: string;
  dismissed_notification?: Record<string, boolean>;
}

/**
 * Converts call state to Mattermost's wire shapes: ids in Mattermost form with `*_raw` twins in
 * the host's form, sessions as an array ordered by join time.
 */
@Injectable()
export class MattermostWire {
  constructor(@InjectCallsIdCodec() private readonly ids: CallsIdCodec) {}

  /** Internal id → wire id. */
  id(internal: string): string {
    return this.ids.toWire(internal);
  }

  /**
   * Wire id → internal id, for a field of a client message.
   * @throws InvalidMessageError when it is not an id of the host's form
   */
  internalId(field: string, wireId: string): string {
    const id = this.ids.fromWire(wireId);
    if (!id) throw new InvalidMessageError(field, 'is not a valid id');
    assertValidId(field, id);
    return id;
  }

  /** An optional wire id → internal id; absent or not of the host's form: undefined. */
  optionalId(wireId: string | undefined): string | undefined {
    return wireId ? (this.ids.fromWire(wireId) ?? undefined) : undefined;
  }

  session(s: CallSessionState): MattermostSession {
    return {
      session_id: s.sessionId,
      user_id: this.id(s.userId),
      user_id_raw: s.userId,
      unmuted: s.unmuted,
      raised_hand: s.raisedHand,
      video: s.video,
    };
  }

  /**
   * The call as clients see it. `forUserId` limits `dismissed_notification` to that user's own
   * entry, as Mattermost does.
   */
  callState(call: CallState, forUserId?: string): MattermostCallState {
    const sessions = Object.values(call.sessions)
      .sort((a, b) => a.joinAt - b.joinAt || a.sessionId.localeCompare(b.sessionId))
      .map((s) => this.session(s));
    const state: MattermostCallState = {
      id: this.id(call.id),
      id_raw: call.id,
      channel_id: this.id(call.channelId),
      channel_id_raw: call.channelId,
      start_at: call.startAt,
      sessions,
      thread_id: call.threadId ? this.id(call.threadId) : '',
      post_id: call.postId ? this.id(call.postId) : '',
      screen_sharing_session_id: call.screenSharingSessionId,
      owner_id: this.id(call.ownerId),
      host_id: call.hostId ? this.id(call.hostId) : '',
      host_id_raw: call.hostId,
    };
    if (forUserId !== undefined && call.dismissedNotification[forUserId]) {
      state.dismissed_notification = { [this.id(forUserId)]: true };
    }
    return state;
  }

  /** `call_start` data. */
  callStart(call: CallState): Record<string, unknown> {
    return {
      id: this.id(call.id),
      id_raw: call.id,
      channelID: this.id(call.channelId),
      channel_id_raw: call.channelId,
      start_at: call.startAt,
      thread_id: call.threadId ? this.id(call.threadId) : '',
      post_id: call.postId ? this.id(call.postId) : '',
      owner_id: this.id(call.ownerId),
      owner_id_raw: call.ownerId,
      host_id: call.hostId ? this.id(call.hostId) : '',
      host_id_raw: call.hostId,
    };
  }

  /** `{user_id, session_id}` (user_joined, user_left, user_reacted). */
  userAndSession(userId: string, sessionId: string): Record<string, unknown> {
    return { user_id: this.id(userId), user_id_raw: userId, session_id: sessionId };
  }

  /** `{userID, session_id}` (mute, voice, screen, video, hand events: Mattermost's camelCase). */
  userIdAndSession(userId: string, sessionId: string): Record<string, unknown> {
    return { userID: this.id(userId), user_id_raw: userId, session_id: sessionId };
  }
}
