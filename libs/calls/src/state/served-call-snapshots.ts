import type { CallSessionState, CallState } from './call-state.types';

/** What is remembered of one call served here. */
export interface ServedCallSnapshot {
  /** The newest state seen of the call (the highest version since the last {@link ServedCallSnapshots.settle}). */
  readonly call: CallState;
  /** The last fields seen of each session served here, by session id. */
  readonly sessions: ReadonlyMap<string, CallSessionState>;
}

interface Entry {
  call: CallState;
  readonly sessions: Map<string, CallSessionState>;
}

/**
 * What this instance last saw of the calls it serves sessions of (sessions whose `instanceId` is
 * this instance's): what it writes back when Redis lost them (it restarted empty, or a failover
 * lost recent writes).
 *
 * - The call-level state kept is the one with the highest version seen: a state with a lower
 *   version comes from a Redis that lost the call's history, and does not replace it until the
 *   call was restored ({@link settle}).
 * - The fields of each session served here are the last seen; a state that lacks the session
 *   (Redis lost it) does not erase them.
 * - A call ended by a write of this instance is forgotten; {@link retain} drops the calls no
 *   longer served here, so memory is bounded by the calls served here.
 */
export class ServedCallSnapshots {
  private readonly calls = new Map<string, Entry>();

  constructor(private readonly instanceId: string) {}

  /** Records a state read from or written to the backend. */
  record(call: CallState): void {
    let entry = this.calls.get(call.id);
    const sessions = call.sessions;
    for (const id in sessions) {
      const session = sessions[id];
      if (session.instanceId !== this.instanceId) continue;
      entry ??= this.add(call);
      if (entry.sessions.get(session.sessionId) !== session) {
        entry.sessions.set(session.sessionId, session);
      }
    }
    if (entry && call.version >= entry.call.version) entry.call = call;
  }

  /** Takes `call` as the call's state whatever its version (it was just restored). */
  settle(call: CallState): void {
    const entry = this.calls.get(call.id);
    if (entry) entry.call = call;
  }

  /** Forgets a call (it ended). */
  forget(callId: string): void {
    this.calls.delete(callId);
  }

  /** Forgets every call but these (the calls still served here). */
  retain(callIds: ReadonlySet<string>): void {
    for (const id of this.calls.keys()) if (!callIds.has(id)) this.calls.delete(id);
  }

  /** What is remembered of a call, or undefined. */
  get(callId: string): ServedCallSnapshot | undefined {
    return this.calls.get(callId);
  }

  /** How many calls are remembered. */
  get size(): number {
    return this.calls.size;
  }

  private add(call: CallState): Entry {
    const entry: Entry = { call, sessions: new Map() };
    this.calls.set(call.id, entry);
    return entry;
  }
}
