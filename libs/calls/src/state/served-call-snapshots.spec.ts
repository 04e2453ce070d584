import * as m from './call-state.mutations';
import type { CallSessionState, CallState } from './call-state.types';
import { ServedCallSnapshots } from './served-call-snapshots';

const s = (sessionId: string, instanceId: string, unmuted = false): CallSessionState => ({
  sessionId,
  userId: `u-${sessionId}`,
  joinAt: 1,
  unmuted,
  raisedHand: 0,
  video: false,
  instanceId,
});

const call = (version: number, ...sessions: CallSessionState[]): CallState => ({
  ...sessions.reduce(
    (c, x) => m.addSession(c, x),
    m.createCallState({ callId: 'c1', channelId: 'ch', ownerId: 'u1' }, 0),
  ),
  version,
});

describe('ServedCallSnapshots', () => {
  it('remembers only calls with a session served here', () => {
    const snapshots = new ServedCallSnapshots('A');

    snapshots.record(call(1, s('b1', 'B')));
    snapshots.record({ ...call(1, s('a1', 'A')), id: 'c2' });

    expect(snapshots.get('c1')).toBeUndefined();
    expect(snapshots.get('c2')?.sessions.get('a1')?.instanceId).toBe('A');
  });

  it('keeps the newest call and the last fields of its sessions across a Redis that lost them', () => {
    const snapshots = new ServedCallSnapshots('A');
    snapshots.record(call(7, s('a1', 'A', true), s('b1', 'B')));

    // Redis restarted empty; B put its session back first (version 1, without a1).
    snapshots.record(call(1, s('b1', 'B')));

    const snapshot = snapshots.get('c1')!;
    expect(snapshot.call.version).toBe(7);
    expect(snapshot.sessions.get('a1')?.unmuted).toBe(true);
  });

  it('takes the restored call as the new baseline once settled', () => {
    const snapshots = new ServedCallSnapshots('A');
    snapshots.record(call(7, s('a1', 'A')));

    snapshots.settle(call(2, s('a1', 'A')));
    snapshots.record(call(3, s('a1', 'A', true)));

    expect(snapshots.get('c1')?.call.version).toBe(3);
    expect(snapshots.get('c1')?.sessions.get('a1')?.unmuted).toBe(true);
  });

  it('forgets ended calls and calls no longer served here', () => {
    const snapshots = new ServedCallSnapshots('A');
    snapshots.record(call(1, s('a1', 'A')));
    snapshots.record({ ...call(1, s('a2', 'A')), id: 'c2' });

    snapshots.forget('c1');
    expect(snapshots.size).toBe(1);
    snapshots.retain(new Set());
    expect(snapshots.size).toBe(0);
  });
});
