import { mergeCallState, restorableCall } from './call-state.merge';
import * as m from './call-state.mutations';
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
    (c, x) => m.addSession(c, x),
    m.createCallState({ callId: 'c1', channelId: 'ch', ownerId: 'u1' }, 0),
  );

describe('mergeCallState (what instance A did during an outage, into Redis)', () => {
  it('adds sessions A added, removes sessions A removed, keeps what others did', () => {
    const base = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const local = m.addSession(m.removeSession(base, 'b1')!, s('a2', 'u3', 3));
    const remote = m.addSession(base, s('b2', 'u4', 4, 'B'));
    const merged = mergeCallState(base, local, remote, 'A')!;
    expect(Object.keys(merged.sessions).sort()).toEqual(['a1', 'a2', 'b2']);
  });

  it('lets A’s session changes win and keeps others’ changes to their sessions', () => {
    const base = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const local = m.patchSession(base, 'a1', { unmuted: true });
    const remote = m.patchSession(base, 'b1', { raisedHand: 99 });
    const merged = mergeCallState(base, local, remote, 'A')!;
    expect(merged.sessions.a1.unmuted).toBe(true);
    expect(merged.sessions.b1.raisedHand).toBe(99);
  });

  it('restores sessions served by A that Redis lost (restart without persistence)', () => {
    const local = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'));
    const remote = call(s('b1', 'u2', 2, 'B'));
    const merged = mergeCallState(local, local, remote, 'A')!;
    expect(Object.keys(merged.sessions).sort()).toEqual(['a1', 'b1']);
  });

  it('does not revert a change another instance made to A’s unchanged session', () => {
    const base = call(s('a1', 'u1', 1));
    const remote = m.patchSession(base, 'a1', { raisedHand: 0, unmuted: true });
    expect(mergeCallState(base, base, remote, 'A')).toBe(remote);
  });

  it('ends the call when no session remains', () => {
    const base = call(s('a1', 'u1', 1));
    expect(mergeCallState(base, null, base, 'A')).toBeNull();
  });

  it('carries call-level changes and dismissals, and re-derives the host', () => {
    const base = call(s('a1', 'u1', 1), s('a2', 'u2', 2));
    const local = m.dismissNotification(m.setHost(base, 'u2', true), 'u9');
    const remote = m.removeSession(base, 'a1')!;
    const merged = mergeCallState(base, local, remote, 'A')!;
    expect(merged.hostLockedUserId).toBe('u2');
    expect(merged.dismissedNotification).toEqual({ u9: true });
    expect(merged.sessions.a1).toBeDefined();
    expect(merged.hostId).toBe('u2');
  });
});

describe('mergeCallState after Redis lost the call (its version is older than ours)', () => {
  it('gives the host back to the one this instance saw, once their session is there', () => {
    // u1 (on A) was host at version 9; B put its session back first into an empty Redis.
    const seen = { ...call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), version: 9 };
    const rebuilt = { ...call(s('b1', 'u2', 2, 'B')), version: 1 };
    expect(rebuilt.hostId).toBe('u2');

    const merged = mergeCallState(seen, seen, rebuilt, 'A')!;

    expect(Object.keys(merged.sessions).sort()).toEqual(['a1', 'b1']);
    expect(merged.hostId).toBe('u1');
  });

  it('does not count versions written locally during the outage', () => {
    const base = { ...call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), version: 9 };
    const local = { ...m.patchSession(base, 'a1', { unmuted: true }), version: 12 };
    const remote = { ...m.setHost(base, 'u2', false), version: 10 };
    expect(mergeCallState(base, local, remote, 'A')!.hostId).toBe('u2');
  });

  it('keeps the stored host when Redis is as new as what this instance saw', () => {
    const seen = { ...call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B')), version: 9 };
    const stored = { ...m.setHost(seen, 'u2', false), version: 10 };
    expect(mergeCallState(seen, seen, stored, 'A')).toBe(stored);
  });
});

describe('restorableCall', () => {
  it('keeps sessions served here or changed here, drops others’ untouched sessions', () => {
    const base = call(s('a1', 'u1', 1), s('b1', 'u2', 2, 'B'), s('b2', 'u3', 3, 'B'));
    const local = m.patchSession(base, 'b2', { unmuted: true });
    expect(Object.keys(restorableCall(base, local, 'A')!.sessions).sort()).toEqual(['a1', 'b2']);
    expect(restorableCall(base, null, 'A')).toBeNull();
  });
});
