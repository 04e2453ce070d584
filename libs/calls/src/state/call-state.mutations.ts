import { randomUUID } from 'node:crypto';
import { hasUsualSessionFields } from './call-state.codec';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { ScreenShareUnavailableError } from '../errors/screen-share-unavailable.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import type {
  CallSessionPatch,
  CallSessionState,
  CallState,
  StartCallInput,
} from './call-state.types';

/**
 * Pure state transitions. Each returns a new object (states are never changed in place), the same
 * object when nothing changes, or `null` when the call ends. The repository bumps `version`.
 */

/** A new call with no sessions yet. */
export function createCallState(input: StartCallInput, now: number): CallState {
  return {
    version: 1,
    id: input.callId ?? randomUUID(),
    channelId: input.channelId,
    startAt: input.startAt ?? now,
    ownerId: input.ownerId,
    hostId: '',
    hostLockedUserId: '',
    threadId: input.threadId ?? '',
    postId: input.postId ?? '',
    title: input.title ?? '',
    screenSharingSessionId: '',
    screenStartAt: 0,
    dismissedNotification: {},
    sessions: {},
  };
}

function hasUser(call: CallState, userId: string): boolean {
  return userId !== '' && Object.values(call.sessions).some((s) => s.userId === userId);
}

/**
 * Mattermost's host selection: the host-locked user if still in the call, else the current host
 * if still in the call, else the user of the earliest-joined session (empty when no session).
 */
export function selectHost(call: CallState): string {
  if (hasUser(call, call.hostLockedUserId)) return call.hostLockedUserId;
  if (hasUser(call, call.hostId)) return call.hostId;
  let first: CallSessionState | undefined;
  for (const s of Object.values(call.sessions)) {
    if (
      !first ||
      s.joinAt < first.joinAt ||
      (s.joinAt === first.joinAt && s.sessionId < first.sessionId)
    ) {
      first = s;
    }
  }
  return first?.userId ?? '';
}

/** Re-applies the invariants that depend on the session set: host and screen sharer. */
export function normalizeCall(call: CallState): CallState {
  const hostId = selectHost(call);
  const sharerGone =
    call.screenSharingSessionId !== '' && !call.sessions[call.screenSharingSessionId];
  if (hostId === call.hostId && !sharerGone) return call;
  return {
    ...call,
    hostId,
    ...(sharerGone ? { screenSharingSessionId: '', screenStartAt: 0 } : {}),
  };
}

/**
 * Adds a session (or replaces it when the same user re-adds the same session id).
 * @throws InvalidCallStateInputError when the session id belongs to another user.
 */
export function addSession(call: CallState, session: CallSessionState): CallState {
  const existing = call.sessions[session.sessionId];
  if (existing && existing.userId !== session.userId) {
    throw new InvalidCallStateInputError('sessionId', 'already used by another user in this call');
  }
  return normalizeCall({ ...call, sessions: { ...call.sessions, [session.sessionId]: session } });
}

/** Removes a session; returns the same call when absent and `null` when it was the last one. */
export function removeSession(call: CallState, sessionId: string): CallState | null {
  if (!call.sessions[sessionId]) return call;
  const sessions = { ...call.sessions };
  delete sessions[sessionId];
  if (Object.keys(sessions).length === 0) return null;
  return normalizeCall({ ...call, sessions });
}

/**
 * Changes fields of one session.
 * @throws SessionNotFoundError when the session is not in the call.
 */
export function patchSession(
  call: CallState,
  sessionId: string,
  patch: CallSessionPatch,
): CallState {
  const current = call.sessions[sessionId];
  if (!current) throw new SessionNotFoundError(call.id, sessionId);
  const unmuted = patch.unmuted ?? current.unmuted;
  const raisedHand = patch.raisedHand ?? current.raisedHand;
  const video = patch.video ?? current.video;
  const instanceId = patch.instanceId ?? current.instanceId;
  if (
    unmuted === current.unmuted &&
    raisedHand === current.raisedHand &&
    video === current.video &&
    instanceId === current.instanceId
  ) {
    return call;
  }
  // Built field by field when it has the usual fields (V8 then gives every session one shape);
  // a session of a newer writer keeps its other fields.
  const session: CallSessionState = hasUsualSessionFields(current)
    ? {
        sessionId: current.sessionId,
        userId: current.userId,
        unmuted,
        raisedHand,
        video,
        joinAt: current.joinAt,
        instanceId,
      }
    : { ...current, unmuted, raisedHand, video, instanceId };
  return { ...call, sessions: { ...call.sessions, [sessionId]: session } };
}

/**
 * Makes a user the host. With `lock` (Mattermost's `host/make`) the user also becomes the
 * host-locked user, who keeps winning host selection while in the call.
 * @throws InvalidCallStateInputError when the user has no session in the call.
 */
export function setHost(call: CallState, userId: string, lock: boolean): CallState {
  if (!hasUser(call, userId)) {
    throw new InvalidCallStateInputError('userId', 'the user is not in the call');
  }
  const hostLockedUserId = lock ? userId : call.hostLockedUserId;
  if (call.hostId === userId && call.hostLockedUserId === hostLockedUserId) return call;
  return { ...call, hostId: userId, hostLockedUserId };
}

/**
 * Makes a session the call's screen sharer: one sharer per call, so this fails while another
 * session shares (the same object when it already shares).
 * @throws SessionNotFoundError, ScreenShareUnavailableError
 */
export function setScreenSharer(call: CallState, sessionId: string, now: number): CallState {
  if (!call.sessions[sessionId]) throw new SessionNotFoundError(call.id, sessionId);
  if (call.screenSharingSessionId === sessionId) return call;
  if (call.screenSharingSessionId !== '') {
    throw new ScreenShareUnavailableError('another participant is sharing their screen');
  }
  return { ...call, screenSharingSessionId: sessionId, screenStartAt: now };
}

/**
 * Turns a session's camera on or off; the same object when it already is. At most `maxCameras`
 * cameras are on at a time (0: no limit).
 * @throws SessionNotFoundError, VideoUnavailableError (one camera too many)
 */
export function setVideo(
  call: CallState,
  sessionId: string,
  on: boolean,
  maxCameras: number,
): CallState {
  const session = call.sessions[sessionId];
  if (!session) throw new SessionNotFoundError(call.id, sessionId);
  if (session.video === on) return call;
  const cameras = Object.values(call.sessions).filter((s) => s.video).length;
  if (on && maxCameras > 0 && cameras >= maxCameras) {
    throw new VideoUnavailableError(`the call has ${cameras} cameras on, the most it may have`);
  }
  return patchSession(call, sessionId, { video: on });
}

/** Stops a session's screen share; the same object when that session is not the sharer. */
export function clearScreenSharer(call: CallState, sessionId: string): CallState {
  if (call.screenSharingSessionId !== sessionId || sessionId === '') return call;
  return { ...call, screenSharingSessionId: '', screenStartAt: 0 };
}

/** Records that a user dismissed the incoming-call notification. */
export function dismissNotification(call: CallState, userId: string): CallState {
  if (call.dismissedNotification[userId]) return call;
  return { ...call, dismissedNotification: { ...call.dismissedNotification, [userId]: true } };
}
