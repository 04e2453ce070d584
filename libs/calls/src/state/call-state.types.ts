/**
 * One participant's session in a call. A session is one client connection (Mattermost's
 * `connection_id` at join), so one user may hold several sessions in the same call.
 */
export interface CallSessionState {
  /** Session id: the connection id the client joined with (`originalConnID` after reconnects). */
  readonly sessionId: string;
  /** The host app's user id. */
  readonly userId: string;
  /** True while the participant's microphone is on. */
  readonly unmuted: boolean;
  /** When the hand was raised (ms since epoch); 0 when the hand is down. */
  readonly raisedHand: number;
  /** True while the participant's camera is on. */
  readonly video: boolean;
  /** When the session joined (ms since epoch). */
  readonly joinAt: number;
  /** Id of the instance whose socket and WebRTC transport serve this session. */
  readonly instanceId: string;
}

/** The shared state of one active call, as stored under `rustchat:calls:state:<call_id>`. */
export interface CallState {
  /**
   * Incremented by every successful mutation. Every write is a compare-and-swap on it, so two
   * writers never overwrite each other's changes.
   */
  readonly version: number;
  /** Call id. */
  readonly id: string;
  /** Channel the call runs in; at most one active call per channel. */
  readonly channelId: string;
  /** When the call started (ms since epoch). */
  readonly startAt: number;
  /** User who started the call. */
  readonly ownerId: string;
  /** Current host (Mattermost: `props.hosts[0]`); empty only while the call has no session. */
  readonly hostId: string;
  /** User set by an explicit host change (`host/make`); wins host selection while in the call. */
  readonly hostLockedUserId: string;
  /** Root post of the call thread (may be empty). */
  readonly threadId: string;
  /** The call post (may be empty). */
  readonly postId: string;
  /** Optional title given at start. */
  readonly title: string;
  /** Session currently sharing its screen, or empty. */
  readonly screenSharingSessionId: string;
  /** When the current screen share started (ms since epoch), or 0. */
  readonly screenStartAt: number;
  /** Users who dismissed the incoming-call notification. */
  readonly dismissedNotification: Readonly<Record<string, true>>;
  /** Sessions keyed by session id. */
  readonly sessions: Readonly<Record<string, CallSessionState>>;
}

/** What is needed to start a call in a channel. */
export interface StartCallInput {
  /** Call id to use if a new call is created (a fresh one is generated when omitted). */
  readonly callId?: string;
  readonly channelId: string;
  readonly ownerId: string;
  readonly threadId?: string;
  readonly postId?: string;
  readonly title?: string;
  /** Start time (ms); defaults to now. */
  readonly startAt?: number;
}

/** Result of {@link CallStateRepository.startCall}. */
export interface StartCallResult {
  readonly call: CallState;
  /** False when the channel already had an active call, which is returned instead. */
  readonly created: boolean;
}

/** Result of {@link CallStateRepository.joinCall}. */
export interface JoinCallResult {
  /** The call after the session was added. */
  readonly call: CallState;
  /** True when this join started the call. */
  readonly created: boolean;
}

/** Result of {@link CallStateRepository.removeSession}. */
export interface RemoveSessionResult {
  /** The call after the removal, or null when the removal ended it (it was the last session). */
  readonly call: CallState | null;
  /** The removed session, or null when it was not in the call. */
  readonly removed: CallSessionState | null;
  /** The call before the removal, or null when it was not found. */
  readonly previous: CallState | null;
}

/** Fields of a session that may be changed after it joined. */
export type CallSessionPatch = Partial<
  Pick<CallSessionState, 'unmuted' | 'raisedHand' | 'video' | 'instanceId'>
>;

/**
 * A pure function from the current state to the next one. Return the same object for "no change",
 * `null` to end the call, or throw to abort (the error reaches the caller, nothing is written).
 * It may run more than once (after a conflict), so it must not have side effects.
 */
export type CallStateMutator = (call: CallState) => CallState | null;

/** Result of `clearScreenSharer`. */
export interface ScreenShareStop {
  readonly call: CallState;
  /** Whether the session was sharing (and now no longer is). */
  readonly stopped: boolean;
}

/** Result of `CallStateRepository.setVideo`. */
export interface VideoChange {
  readonly call: CallState;
  /** Whether the session's camera changed (false: it already was so). */
  readonly changed: boolean;
}

/** Result of `CallStateRepository.restoreSessions`. */
export interface RestoreSessionsResult {
  /**
   * The channel's call afterwards. Its id differs from the snapshot's when the channel has
   * another call now (nothing was restored then).
   */
  readonly call: CallState;
  /** True when the call was created again (the backend had lost it). */
  readonly created: boolean;
  /** How many sessions were put back (or given this instance's id). */
  readonly restored: number;
}
