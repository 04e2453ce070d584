/** One participant's session, as the server's events describe it. */
export interface Participant {
  readonly sessionId: string;
  readonly userId: string;
  unmuted: boolean;
  /** When the hand went up (ms), 0 when down. */
  raisedHand: number;
  /** The camera is on (`user_video_on/off`, LiveKit's unmuted camera publication). */
  video: boolean;
  /** Voice activity (`user_voice_on/off`, LiveKit's active speakers). */
  speaking: boolean;
  /** The last reaction, shown for a few seconds. */
  reaction: { literal: string; until: number } | null;
}

/** The whole call at one moment, as a protocol describes it (reactions are the model's own). */
export interface CallSnapshot {
  /** In the order to show them; `speaking` left out keeps what the model knew. */
  participants: (Omit<Participant, 'reaction' | 'speaking'> & { speaking?: boolean })[];
  hostId: string;
  screenSessionId: string;
}

interface WireSession {
  session_id?: unknown;
  user_id?: unknown;
  unmuted?: unknown;
  raised_hand?: unknown;
  video?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Parses `call_state.data.call` (a JSON string; empty when there is no call). */
export function parseCallState(
  call: unknown,
): { sessions: WireSession[]; hostId: string; screenSessionId: string } | null {
  if (typeof call !== 'string' || call === '') return null;
  const parsed = JSON.parse(call) as {
    sessions?: unknown;
    host_id?: unknown;
    screen_sharing_session_id?: unknown;
  };
  return {
    sessions: Array.isArray(parsed.sessions) ? (parsed.sessions as WireSession[]) : [],
    hostId: str(parsed.host_id),
    screenSessionId: str(parsed.screen_sharing_session_id),
  };
}

const REACTION_MS = 6000;

/** What to show of a Mattermost `EmojiData`: the emoji itself, else `:name:` ('' when neither). */
export function emojiLiteral(emoji: unknown): string {
  const e = (typeof emoji === 'object' && emoji !== null ? emoji : {}) as {
    literal?: unknown;
    name?: unknown;
  };
  return str(e.literal) || (str(e.name) ? `:${str(e.name)}:` : '');
}

/**
 * The call as this page knows it: participants (ordered by arrival), the host and the screen
 * sharer, kept up to date from Mattermost's `call_state` and incremental events, or from snapshots
 * of a LiveKit room.
 */
export class CallModel {
  hostId = '';
  screenSessionId = '';
  readonly participants = new Map<string, Participant>();

  /** Replaces everything with a `call_state` (voice activity and reactions are kept). */
  applyCallState(call: unknown): void {
    const state = parseCallState(call);
    this.replace({
      participants: (state?.sessions ?? [])
        .map((s) => ({
          sessionId: str(s.session_id),
          userId: str(s.user_id),
          unmuted: s.unmuted === true,
          raisedHand: typeof s.raised_hand === 'number' ? s.raised_hand : 0,
          video: s.video === true,
        }))
        .filter((p) => p.sessionId !== ''),
      hostId: state?.hostId ?? '',
      screenSessionId: state?.screenSessionId ?? '',
    });
  }

  /** Replaces everything with a snapshot (reactions, and voice activity it leaves out, are kept). */
  replace(snapshot: CallSnapshot): void {
    const previous = new Map(this.participants);
    this.participants.clear();
    for (const p of snapshot.participants) {
      const old = previous.get(p.sessionId);
      this.participants.set(p.sessionId, {
        ...p,
        speaking: p.speaking ?? old?.speaking ?? false,
        reaction: old?.reaction ?? null,
      });
    }
    this.hostId = snapshot.hostId;
    this.screenSessionId = snapshot.screenSessionId;
  }

  /** Shows a reaction on a participant for a few seconds. @returns false for an unknown session */
  react(sessionId: string, literal: string, now = Date.now()): boolean {
    const p = this.participants.get(sessionId);
    if (!p || !literal) return false;
    p.reaction = { literal, until: now + REACTION_MS };
    return true;
  }

  /**
   * Applies one event (name without the prefix).
   * @returns true when something visible changed
   */
  apply(event: string, data: Record<string, unknown>): boolean {
    const sessionId = str(data.session_id);
    const p = this.participants.get(sessionId);
    switch (event) {
      case 'user_joined':
        if (!sessionId || p) return false;
        this.participants.set(sessionId, {
          sessionId,
          userId: str(data.user_id),
          unmuted: false,
          raisedHand: 0,
          video: false,
          speaking: false,
          reaction: null,
        });
        return true;
      case 'user_left':
        if (this.screenSessionId === sessionId) this.screenSessionId = '';
        return this.participants.delete(sessionId);
      case 'user_muted':
      case 'user_unmuted':
        if (!p) return false;
        p.unmuted = event === 'user_unmuted';
        if (!p.unmuted) p.speaking = false;
        return true;
      case 'user_voice_on':
      case 'user_voice_off':
        if (!p) return false;
        p.speaking = event === 'user_voice_on';
        return true;
      case 'user_video_on':
      case 'user_video_off':
        if (!p) return false;
        p.video = event === 'user_video_on';
        return true;
      case 'user_raise_hand':
      case 'user_unraise_hand':
        if (!p) return false;
        p.raisedHand =
          event === 'user_raise_hand'
            ? typeof data.raised_hand === 'number' && data.raised_hand > 0
              ? data.raised_hand
              : Date.now()
            : 0;
        return true;
      case 'user_screen_on':
        this.screenSessionId = sessionId;
        return true;
      case 'user_screen_off':
        // Mattermost sends it with empty data when the sharer leaves.
        if (sessionId && this.screenSessionId !== sessionId) return false;
        this.screenSessionId = '';
        return true;
      case 'call_host_changed':
        this.hostId = str(data.hostID) || str(data.host_id);
        return true;
      case 'user_reacted':
        return this.react(sessionId, emojiLiteral(data.emoji));
      default:
        return false;
    }
  }

  /** Clears reactions whose time is up. @returns true when one was cleared */
  expireReactions(now = Date.now()): boolean {
    let changed = false;
    for (const p of this.participants.values()) {
      if (p.reaction && p.reaction.until <= now) {
        p.reaction = null;
        changed = true;
      }
    }
    return changed;
  }
}
