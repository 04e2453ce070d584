import { normalizeCall } from './call-state.mutations';
import type { CallSessionState, CallState } from './call-state.types';

function sameSession(a: CallSessionState, b: CallSessionState): boolean {
  return (
    a.userId === b.userId &&
    a.unmuted === b.unmuted &&
    a.raisedHand === b.raisedHand &&
    a.video === b.video &&
    a.joinAt === b.joinAt &&
    a.instanceId === b.instanceId
  );
}

/** Call-level fields that a local change during an outage carries into Redis. */
const CALL_FIELDS = [
  'hostLockedUserId',
  'screenSharingSessionId',
  'screenStartAt',
  'threadId',
  'postId',
  'title',
] as const;

/** Call-level fields restored from this instance's view when Redis lost the call's history. */
const LOST_HISTORY_FIELDS = ['hostId', ...CALL_FIELDS] as const;

/**
 * Three-way, session-level merge of what one instance did while Redis was away into what Redis
 * holds now.
 *
 * - `base`: the state this instance had before its first local write of the outage (null if the
 *   call was created locally);
 * - `local`: the state it has now (null if it ended the call locally);
 * - `remote`: what Redis holds now.
 *
 * Sessions removed locally are removed, sessions added or changed locally win, and sessions served
 * by `instanceId` that Redis lost (e.g. it restarted empty) are restored; everything else in Redis
 * (other instances' work) is kept. Call-level fields changed locally win, and all of them (host
 * included) when Redis holds an older version than `base` (Redis lost the call's history). Host
 * and screen sharer are re-derived. With `instanceId` null it is a plain three-way merge (the
 * changes from `base` to `local` applied to `remote`): nothing lost is restored. Returns `null`
 * when no session remains (the call ends) and `remote` itself when nothing changes. The version
 * is left to the caller.
 */
export function mergeCallState(
  base: CallState | null,
  local: CallState | null,
  remote: CallState,
  instanceId: string | null,
): CallState | null {
  const baseSessions = base?.sessions ?? {};
  const localSessions = local?.sessions ?? {};
  const sessions: Record<string, CallSessionState> = { ...remote.sessions };
  let changed = false;

  for (const id of Object.keys(baseSessions)) {
    if (!localSessions[id] && sessions[id]) {
      delete sessions[id];
      changed = true;
    }
  }
  for (const [id, session] of Object.entries(localSessions)) {
    const before = baseSessions[id];
    const changedHere = !before || !sameSession(before, session);
    const lostServedHere =
      instanceId !== null && session.instanceId === instanceId && !sessions[id];
    if ((changedHere || lostServedHere) && !(sessions[id] && sameSession(sessions[id], session))) {
      sessions[id] = session;
      changed = true;
    }
  }

  let merged: CallState = changed ? { ...remote, sessions } : remote;
  if (instanceId !== null && local && base && remote.version < base.version) {
    // Redis lost the call's history (it restarted empty, or a failover lost writes): it holds an
    // older version than the last one this instance read from it. What this instance has of the
    // call is newer, host included. (Versions written locally during an outage are not compared:
    // they count local writes, not Redis's.)
    for (const field of LOST_HISTORY_FIELDS) {
      if (merged[field] !== local[field]) merged = { ...merged, [field]: local[field] };
    }
  }
  if (local && base) {
    for (const field of CALL_FIELDS) {
      if (local[field] !== base[field] && merged[field] !== local[field]) {
        merged = { ...merged, [field]: local[field] };
      }
    }
  }
  if (local) {
    const added = Object.keys(local.dismissedNotification).filter(
      (u) => !merged.dismissedNotification[u],
    );
    if (added.length > 0) {
      const dismissed = { ...merged.dismissedNotification };
      for (const u of added) dismissed[u] = true;
      merged = { ...merged, dismissedNotification: dismissed };
    }
  }
  if (Object.keys(merged.sessions).length === 0) return null;
  return normalizeCall(merged);
}

/**
 * The part of a local call worth recreating in Redis when Redis no longer has it: the sessions
 * added or changed locally during the outage and those served by this instance. Null if none.
 */
export function restorableCall(
  base: CallState | null,
  local: CallState | null,
  instanceId: string,
): CallState | null {
  if (!local) return null;
  const baseSessions = base?.sessions ?? {};
  const sessions = Object.fromEntries(
    Object.entries(local.sessions).filter(([id, s]) => {
      const before = baseSessions[id];
      return s.instanceId === instanceId || !before || !sameSession(before, s);
    }),
  );
  if (Object.keys(sessions).length === 0) return null;
  return normalizeCall({ ...local, sessions });
}
