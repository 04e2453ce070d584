import type { MediaSignal } from '../media/media-plane.interface';
import type { CallState } from '../state/call-state.types';

/** Who an event is about: a user's session. */
export interface SessionSubject {
  readonly userId: string;
  readonly sessionId: string;
}

/** A reaction's emoji (Mattermost's `EmojiData`). */
export interface EmojiData {
  readonly name: string;
  readonly unified?: string;
  readonly skin?: string;
  readonly literal?: string;
}

/**
 * What happened in a call, in the core's words. A protocol adapter turns each into its own wire
 * message (Mattermost's `custom_com.mattermost.calls_*` events today); the core decides who gets
 * it (see {@link CallDelivery}).
 */
export type CallEvent =
  /** The session's join was accepted (Mattermost `join`). */
  | { readonly type: 'joined'; readonly sessionId: string }
  /** A call began (`call_start`). */
  | { readonly type: 'call-started'; readonly call: CallState }
  /** The call as one user sees it (`call_state`). */
  | { readonly type: 'call-state'; readonly call: CallState; readonly forUserId: string }
  | ({ readonly type: 'session-joined' } & SessionSubject)
  | ({ readonly type: 'session-left' } & SessionSubject)
  | { readonly type: 'host-changed'; readonly call: CallState }
  | ({ readonly type: 'muted'; readonly muted: boolean } & SessionSubject)
  /** `raisedHand` is when the hand went up (ms), 0 when it is down. */
  | ({ readonly type: 'hand'; readonly raisedHand: number } & SessionSubject)
  | ({
      readonly type: 'reacted';
      readonly emoji: EmojiData;
      readonly timestamp: number;
    } & SessionSubject)
  | ({ readonly type: 'screen'; readonly on: boolean } & SessionSubject)
  | ({ readonly type: 'video'; readonly on: boolean } & SessionSubject)
  | ({ readonly type: 'voice'; readonly speaking: boolean } & SessionSubject)
  /** A media signal for the one session it is about. */
  | ({
      readonly type: 'signal';
      readonly channelId: string;
      readonly signal: MediaSignal;
    } & SessionSubject)
  /** The host asks a session to mute (it is also muted at the SFU). */
  | { readonly type: 'host-muted'; readonly channelId: string; readonly sessionId: string }
  /** The host stopped a session's screen share. */
  | { readonly type: 'host-stopped-screen'; readonly channelId: string; readonly sessionId: string }
  | {
      readonly type: 'host-lowered-hand';
      readonly call: CallState;
      readonly sessionId: string;
      readonly hostId: string;
    }
  /** The host removes a session (closed after a short grace). */
  | ({ readonly type: 'host-removed'; readonly call: CallState } & SessionSubject)
  /** The host ended the call for everyone. */
  | { readonly type: 'call-ended'; readonly call: CallState }
  | { readonly type: 'notification-dismissed'; readonly userId: string; readonly callId: string }
  /** This instance is shutting down: the session should move to another one. */
  | { readonly type: 'draining'; readonly sessionId: string; readonly reason: string };

/** The type of a {@link CallEvent}. */
export type CallEventType = CallEvent['type'];
