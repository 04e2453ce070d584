import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import * as m from './call-state.mutations';
import type { CallSessionState, CallState } from './call-state.types';

const session = (sessionId: string, userId: string, joinAt: number): CallSessionState => ({
  sessionId,
  userId,
  joinAt,
  unmuted: false,
  raisedHand: 0,
  video: false,
  instanceId: 'i1',
});

function callWith(...sessions: CallSessionState[]): CallState {
  let call = m.createCallState({ callId: 'c1', channelId: 'ch1', ownerId: 'u1' }, 1000);
  for (const s of sessions) call = m.addSession(call, s);
  return call;
}

describe('call state mutations', () => {
  it('makes the first joiner host and keeps the host while others join', () => {
    const call = callWith(session('s1', 'u1', 1), session('s2', 'u2', 2));
    expect(call.hostId).toBe('u1');
  });

  it('reassigns the host to the earliest remaining joiner when the host leaves', () => {
    const call = callWith(session('s1', 'u1', 1), session('s3', 'u3', 3), session('s2', 'u2', 2));
    expect(m.removeSession(call, 's1')?.hostId).toBe('u2');
  });

  it('keeps the host-locked user as host across leaves of others', () => {
    let call = callWith(session('s1', 'u1', 1), session('s2', 'u2', 2), session('s3', 'u3', 3));
    call = m.setHost(call, 'u3', true);
    call = m.removeSession(call, 's1')!;
    expect(call.hostId).toBe('u3');
    expect(call.hostLockedUserId).toBe('u3');
  });

  it('refuses to make someone outside the call host', () => {
    expect(() => m.setHost(callWith(session('s1', 'u1', 1)), 'u9', true)).toThrow(
      InvalidCallStateInputError,
    );
  });

  it('ends the call (null) when the last session leaves, and ignores absent sessions', () => {
    const call = callWith(session('s1', 'u1', 1));
    expect(m.removeSession(call, 'nope')).toBe(call);
    expect(m.removeSession(call, 's1')).toBeNull();
  });

  it('stops the screen share when the sharer leaves', () => {
    let call = callWith(session('s1', 'u1', 1), session('s2', 'u2', 2));
    call = m.setScreenSharer(call, 's2', 5000);
    expect(call.screenStartAt).toBe(5000);
    call = m.removeSession(call, 's2')!;
    expect(call.screenSharingSessionId).toBe('');
    expect(call.screenStartAt).toBe(0);
  });

  it('patches sessions and returns the same object when nothing changes', () => {
    const call = callWith(session('s1', 'u1', 1));
    expect(m.patchSession(call, 's1', { unmuted: false })).toBe(call);
    expect(m.patchSession(call, 's1', { unmuted: true }).sessions.s1.unmuted).toBe(true);
    expect(() => m.patchSession(call, 'sX', { unmuted: true })).toThrow(SessionNotFoundError);
  });

  it('patches only the fields given, and keeps the fields of a newer writer and their order', () => {
    const call = callWith(session('s1', 'u1', 1));
    const patched = m.patchSession(call, 's1', { raisedHand: 7, instanceId: 'other' });
    expect(patched.sessions.s1).toEqual({
      ...call.sessions.s1,
      raisedHand: 7,
      instanceId: 'other',
    });
    expect(Object.keys(patched.sessions.s1)).toEqual(Object.keys(call.sessions.s1));

    const { sessionId, ...rest } = call.sessions.s1;
    const newer = { ...call, sessions: { s1: { screen: true, ...rest, sessionId } } };
    const out = m.patchSession(newer, 's1', { unmuted: true, video: undefined });
    expect(out.sessions.s1).toEqual({ ...newer.sessions.s1, unmuted: true });
    expect(Object.keys(out.sessions.s1)).toEqual(Object.keys(newer.sessions.s1));
  });

  it('turns cameras on up to the limit (0: none); off always, and again the same object', () => {
    const call = callWith(session('s1', 'u1', 1), session('s2', 'u2', 2), session('s3', 'u3', 3));
    const one = m.setVideo(call, 's1', true, 2);
    expect(one.sessions.s1.video).toBe(true);
    expect(m.setVideo(one, 's1', true, 2)).toBe(one);
    const two = m.setVideo(one, 's2', true, 2);
    expect(() => m.setVideo(two, 's3', true, 2)).toThrow(VideoUnavailableError);
    expect(() => m.setVideo(two, 's3', true, 2)).toThrow('the call has 2 cameras on');
    expect(m.setVideo(two, 's3', true, 0).sessions.s3.video).toBe(true);
    const off = m.setVideo(two, 's1', false, 2);
    expect(off.sessions.s1.video).toBe(false);
    expect(m.setVideo(off, 's3', true, 2).sessions.s3.video).toBe(true);
    expect(() => m.setVideo(call, 'sX', true, 2)).toThrow(SessionNotFoundError);
  });

  it('refuses a session id that another user already holds', () => {
    const call = callWith(session('s1', 'u1', 1));
    expect(() => m.addSession(call, session('s1', 'u2', 2))).toThrow(InvalidCallStateInputError);
  });

  it('never changes its input', () => {
    const call = callWith(session('s1', 'u1', 1));
    const snapshot = JSON.stringify(call);
    m.addSession(call, session('s2', 'u2', 2));
    m.patchSession(call, 's1', { video: true });
    m.dismissNotification(call, 'u7');
    expect(JSON.stringify(call)).toBe(snapshot);
  });
});
