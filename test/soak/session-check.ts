import type { SoakInstance } from './soak-cluster';
import type { SoakParticipant } from './soak-participant';

/** How the calls look over REST on every instance, against who should be in them. */
export interface SessionCheck {
  /** Sessions of participants in the call that an instance does not list (`instance/name`). */
  readonly lost: string[];
  /**
   * Sessions an instance lists that nobody has (a participant's previous session, a session
   * twice): `instance/channel/session id`.
   */
  readonly duplicated: string[];
  /** Channels whose call has different ids on different instances. */
  readonly split: string[];
  /** Instances that did not answer. */
  readonly unanswered: string[];
}

/** Whether the check found nothing wrong. */
export function sessionsOk(c: SessionCheck): boolean {
  return c.lost.length + c.duplicated.length + c.split.length + c.unanswered.length === 0;
}

interface CallView {
  readonly id: string;
  readonly sessions: { session_id: string }[];
}

/**
 * Asks every running instance (directly, not through its proxy) for the call of every channel
 * (`GET /plugins/com.mattermost.calls/<channel>`) and compares the sessions with the participants
 * that are in their call now; participants that are joining again are expected nowhere.
 */
export async function checkSessions(
  instances: readonly SoakInstance[],
  participants: readonly SoakParticipant[],
  token: string,
): Promise<SessionCheck> {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const unanswered: string[] = [];
  const channels = [...new Set(participants.map((p) => p.channel))];
  const callIds = new Map<string, Set<string>>();
  // Every instance and channel at once: a stuck instance costs one timeout, not one per request.
  const views = await Promise.all(
    instances.flatMap((inst) => {
      const host = inst.host;
      if (!host?.alive) return [];
      return channels.map(async (channel) => ({
        inst,
        channel,
        call: await fetchCall(host.url, channel, token),
      }));
    }),
  );
  for (const { inst, channel, call } of views) {
    if (call === undefined) {
      unanswered.push(`${inst.id}/${channel}`);
      continue;
    }
    const listed = new Map<string, number>();
    for (const s of call?.sessions ?? []) {
      listed.set(s.session_id, (listed.get(s.session_id) ?? 0) + 1);
    }
    const expected = participants.filter((p) => p.channel === channel && p.isUp);
    for (const p of expected) if (!listed.has(p.sessionId)) lost.push(`${inst.id}/${p.name}`);
    const known = new Set(expected.map((p) => p.sessionId));
    for (const [id, n] of listed) {
      if (!known.has(id) || n > 1) duplicated.push(`${inst.id}/${channel}/${id}`);
    }
    if (call) callIds.set(channel, (callIds.get(channel) ?? new Set()).add(call.id));
  }
  const split = [...callIds].filter(([, ids]) => ids.size > 1).map(([channel]) => channel);
  return { lost, duplicated, split, unanswered };
}

/** The channel's call (null: none), or undefined when the instance does not answer in 3 s. */
async function fetchCall(
  url: string,
  channel: string,
  token: string,
): Promise<CallView | null | undefined> {
  try {
    const res = await fetch(`${url}/plugins/com.mattermost.calls/${channel}`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { call?: CallView };
    return body.call ?? null;
  } catch {
    return undefined;
  }
}
