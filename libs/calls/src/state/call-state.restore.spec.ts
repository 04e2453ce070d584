import * as m from './call-state.mutations';
import { restoredCall, restoreSessions } from './call-state.restore';
import type { CallSessionState, CallState } from './call-state.types';

const s = (
  sessionId: string,
  userId: string,
  joinAt: number,
  instanceId = 'A',
): CallSessionState => ({
  sessionId,
  userId,
  joinAt,
  unmuted: false,
  raisedHand: 0,
  video: false,
  instanceId,
});

const call = (...sessions: CallSessionState[]): CallState =>
  sessions.reduce(
    (c, x) => ({ ...m.addSession(c, x), version: c.version + 1 }),
    m.createCallState({ callId: 'c1', channelId: 'ch', ownerId: 'u1', title: 'Standup' }, 0),
  );

describe('restoredCall (the call created again by one instance)', () => {
  it('keeps the call-level fields and only the given sessions, at version 1', () => {
    const before = m.setHost(call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), 'u2', true);

    const created = restoredCall(before, [s('a1', 'u1', 1)]);

    expect(created).toMatchObject({ id: 'c1', channelId: 'ch', title: 'Standup', version: 1 });
    expect(Object.keys(created.sessions)).toEqual(['a1']);
    // The host-locked user is not back yet: the host is one of the sessions present.
    expect(created.hostId).toBe('u1');
    expect(created.hostLockedUserId).toBe('u2');
  });
});

describe('restoreSessions (merging what each instance puts back)', () => {
  it('adds the missing sessions and keeps the others', () => {
    const snapshot = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const current = restoredCall(snapshot, [snapshot.sessions.b1]);

    const next = restoreSessions(current, snapshot, [snapshot.sessions.a1]);

    expect(Object.keys(next.sessions).sort()).toEqual(['a1', 'b1']);
    expect(next.sessions.b1.instanceId).toBe('B');
  });

  it('gives back the host of the snapshot when the stored call lost its history', () => {
    // u1 (on A) was host; B put its session back first, so B's user became host.
    const snapshot = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const current = restoredCall(snapshot, [snapshot.sessions.b1]);
    expect(current.hostId).toBe('u2');

    const next = restoreSessions(current, snapshot, [snapshot.sessions.a1]);

    expect(next.hostId).toBe('u1');
  });

  it('keeps a newer stored call’s host and fields (Redis kept its data)', () => {
    const stored = m.setHost(call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), 'u2', false);
    const newer = { ...stored, version: 10, title: 'Renamed' };
    const snapshot = { ...call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), version: 5 };

    expect(restoreSessions(newer, snapshot, [snapshot.sessions.a1])).toBe(newer);
  });

  it('keeps the stored fields of a session it has, but corrects its instance', () => {
    const snapshot = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const current = {
      ...m.patchSession(snapshot, 'a1', { unmuted: true, instanceId: 'X' }),
      version: 50,
    };

    const next = restoreSessions(current, snapshot, [snapshot.sessions.a1]);

    expect(next.sessions.a1).toMatchObject({ unmuted: true, instanceId: 'A' });
  });

  it('changes nothing when everything is there, and never takes another user’s session id', () => {
    const snapshot = call(s('a1', 'u1', 1));
    expect(restoreSessions(snapshot, snapshot, [snapshot.sessions.a1])).toBe(snapshot);
    const other = { ...s('a1', 'u9', 1) };
    expect(restoreSessions(snapshot, snapshot, [other])).toBe(snapshot);
  });

  it('restores the screen sharer once its session is back', () => {
    const sharing = m.setScreenSharer(call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), 'a1', 7);
    const snapshot = { ...sharing, version: 9 };
    const current = restoredCall(snapshot, [snapshot.sessions.b1]);
    expect(current.screenSharingSessionId).toBe('');

    const next = restoreSessions(current, snapshot, [snapshot.sessions.a1]);

    expect(next).toMatchObject({ screenSharingSessionId: 'a1', screenStartAt: 7 });
  });
});
