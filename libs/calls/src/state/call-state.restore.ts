import { normalizeCall } from './call-state.mutations';
import type { CallSessionState, CallState } from './call-state.types';

/** Call-level fields an instance's snapshot restores when the stored call lost its history. */
const CALL_FIELDS = [
  'startAt',
  'ownerId',
  'hostId',
  'hostLockedUserId',
  'threadId',
  'postId',
  'title',
  'screenSharingSessionId',
  'screenStartAt',
] as const;

/**
 * The call to create when the backend no longer has it: what `snapshot` (the last state an
 * instance saw) says of the call, with only `sessions` (the ones that instance serves). Host and
 * screen sharer are re-derived from those sessions; the version starts again at 1.
 */
export function restoredCall(
  snapshot: CallState,
  sessions: readonly CallSessionState[],
): CallState {
  return normalizeCall({
    ...snapshot,
    version: 1,
    sessions: Object.fromEntries(sessions.map((s) => [s.sessionId, s])),
  });
}

/**
 * Puts back into `current` the sessions an instance serves that it lacks (the backend lost them)
 * and gives those it has the instance's id; the fields of a session `current` has are kept (they
 * are at least as new). When `current` is older than `snapshot` (its version is lower: the
 * backend lost the call's history, it restarted empty or a failover lost writes), the call-level
 * fields of the snapshot (host, host lock, screen share, title…) win, so the restored call is
 * the one people were in. Returns `current` itself when nothing changes. Pure; the version is
 * left to the caller.
 */
export function restoreSessions(
  current: CallState,
  snapshot: CallState,
  sessions: readonly CallSessionState[],
): CallState {
  let changed = false;
  const merged: Record<string, CallSessionState> = { ...current.sessions };
  for (const session of sessions) {
    const existing = merged[session.sessionId];
    if (existing && existing.userId !== session.userId) continue;
    if (existing?.instanceId === session.instanceId) continue;
    merged[session.sessionId] = existing
      ? { ...existing, instanceId: session.instanceId }
      : session;
    changed = true;
  }
  let next: CallState = changed ? { ...current, sessions: merged } : current;
  if (current.version < snapshot.version) {
    for (const field of CALL_FIELDS) {
      if (next[field] !== snapshot[field]) {
        next = { ...next, [field]: snapshot[field] };
        changed = true;
      }
    }
    const dismissed = Object.keys(snapshot.dismissedNotification).filter(
      (u) => !next.dismissedNotification[u],
    );
    if (dismissed.length > 0) {
      const all: Record<string, true> = { ...next.dismissedNotification };
      for (const u of dismissed) all[u] = true;
      next = { ...next, dismissedNotification: all };
      changed = true;
    }
  }
  if (!changed) return current;
  const normalized = normalizeCall(next);
  return sameState(normalized, current) ? current : normalized;
}

function sameState(a: CallState, b: CallState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
