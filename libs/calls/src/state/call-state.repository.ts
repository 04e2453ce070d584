import { Inject } from '@nestjs/common';
import type { StateBackendStatus } from '../config/state-backend-mode';
import type {
  CallSessionPatch,
  CallSessionState,
  CallState,
  CallStateMutator,
  JoinCallResult,
  RemoveSessionResult,
  RestoreSessionsResult,
  ScreenShareStop,
  StartCallInput,
  VideoChange,
} from './call-state.types';

/**
 * Shared call state: the seam the signaling layer, the REST API and the SFU use. One
 * implementation per backend (`memory`, `redis`, `auto`), chosen at boot.
 *
 * Every mutation is atomic: it is a compare-and-swap on the call's `version`, retried (bounded) on
 * conflict, so concurrent writers on any number of instances never lose each other's updates.
 * Returned states are immutable snapshots. Ids are validated (non-empty, at most 128 characters);
 * a bad id throws `InvalidCallStateInputError`.
 */
export interface CallStateRepository {
  /**
   * Starts a call in a channel, or returns the channel's active call: there is never more than
   * one, even when several instances race.
   */
  startCall(input: StartCallInput): Promise<{ call: CallState; created: boolean }>;
  /**
   * Adds a session to the channel's call, starting the call if there is none.
   * @param options.maxSessions participant limit (0 = none); over it throws `CallFullError`
   */
  joinCall(
    input: StartCallInput,
    session: CallSessionState,
    options?: { maxSessions?: number },
  ): Promise<JoinCallResult>;
  /** The active call with this id, or null. */
  getCall(callId: string): Promise<CallState | null>;
  /** The channel's active call, or null. */
  getCallByChannel(channelId: string): Promise<CallState | null>;
  /** Every active call. */
  listActiveCalls(): Promise<CallState[]>;
  /** Adds a session (or replaces it for the same user). @throws CallNotFoundError */
  addSession(callId: string, session: CallSessionState): Promise<CallState>;
  /** Changes fields of a session. @throws CallNotFoundError, SessionNotFoundError */
  updateSession(callId: string, sessionId: string, patch: CallSessionPatch): Promise<CallState>;
  /**
   * Removes a session; the host is reassigned and a screen share by it stops. Removing the last
   * session ends the call (all its keys are removed). Removing an absent session is a no-op.
   */
  removeSession(callId: string, sessionId: string): Promise<RemoveSessionResult>;
  /** Makes a user (who must be in the call) the host; `lock` also sets the host lock. */
  setHost(callId: string, userId: string, options?: { lock?: boolean }): Promise<CallState>;
  /**
   * Makes a session the screen sharer. One sharer per call: refused while another session shares.
   * @throws CallNotFoundError, SessionNotFoundError, ScreenShareUnavailableError
   */
  setScreenSharer(callId: string, sessionId: string): Promise<CallState>;
  /** Stops a session's screen share; `stopped` is false when that session was not sharing. */
  clearScreenSharer(callId: string, sessionId: string): Promise<ScreenShareStop>;
  /**
   * Turns a session's camera on or off. At most `maxCameras` cameras are on at a time (0 or
   * unset: no limit), even when sessions on several instances turn theirs on at once.
   * @throws CallNotFoundError, SessionNotFoundError, VideoUnavailableError
   */
  setVideo(
    callId: string,
    sessionId: string,
    on: boolean,
    options?: { maxCameras?: number },
  ): Promise<VideoChange>;
  /** Raises (timestamped now, unless already raised) or lowers a session's hand. */
  setRaisedHand(callId: string, sessionId: string, raised: boolean): Promise<CallState>;
  /** Mutes or unmutes a session. */
  setMuted(callId: string, sessionId: string, muted: boolean): Promise<CallState>;
  /** Records that a user dismissed the call notification. */
  dismissNotification(callId: string, userId: string): Promise<CallState>;
  /**
   * Puts sessions an instance serves back into their call after the backend lost them (Redis
   * restarted empty, or a failover lost recent writes): the call is created again from `snapshot`
   * (the last state that instance saw) when the channel has no call, else the missing sessions
   * are added under compare-and-swap, merging with what other instances put back; when the stored
   * call is older than the snapshot, the snapshot's host, host lock, screen share and title win.
   * Nothing is restored into another call of the channel.
   */
  restoreSessions(
    snapshot: CallState,
    sessions: readonly CallSessionState[],
  ): Promise<RestoreSessionsResult>;
  /** Ends a call: removes its state, channel lookup and active entry. False if it was not active. */
  endCall(callId: string): Promise<boolean>;
  /**
   * Applies a pure function to the current state and stores the result atomically, retrying on
   * conflict. Returns the stored state (null when the function ended the call).
   * @throws CallNotFoundError, CallStateConflictError after the bounded retries
   */
  update(callId: string, mutator: CallStateMutator): Promise<CallState | null>;
  /** Whether calls are enabled in a channel: they are unless disabled. */
  isChannelEnabled(channelId: string): Promise<boolean>;
  /** Enables or disables calls in a channel (Mattermost's `POST /{channel_id}`). */
  setChannelEnabled(channelId: string, enabled: boolean): Promise<void>;
  /** Which backend is configured and what it is doing now. */
  status(): StateBackendStatus;
}

/** Injection token of {@link CallStateRepository}. */
export const CallStateRepository = Symbol('CallStateRepository');

/** Injects the {@link CallStateRepository}. */
export const InjectCallStateRepository = (): ParameterDecorator & PropertyDecorator =>
  Inject(CallStateRepository);
