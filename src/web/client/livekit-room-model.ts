/**
 * The call as a livekit-client `Room` shows it, in the page's model: identities are Mattermost's
 * `userID___sessionID`, the hand is the `raised_hand` attribute, the host is in the room metadata
 * (`{"host_id"}`), mute is the microphone track's, the sharer is whoever publishes a screen, a camera is on while published unmuted.
 * Structural types (what of livekit-client is read), so it is unit-tested without a browser.
 */
import type { CallSnapshot } from './call-model';

/** livekit-client's `Track.Source` values read here. */
export const SOURCE = {
  microphone: 'microphone',
  camera: 'camera',
  screen: 'screen_share',
} as const;

/** The attribute that carries a raised hand (when it went up, ms; '' when down). */
export const RAISED_HAND = 'raised_hand';

/** What is read of a `TrackPublication`. */
export interface PublicationLike {
  readonly source: string;
  readonly isMuted: boolean;
}

/** What is read of a `Participant`. */
export interface ParticipantLike {
  readonly identity: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly isSpeaking: boolean;
  readonly joinedAt?: Date;
  readonly trackPublications: ReadonlyMap<string, PublicationLike>;
}

/** What is read of a `Room`. */
export interface RoomLike {
  readonly localParticipant: ParticipantLike;
  readonly remoteParticipants: ReadonlyMap<string, ParticipantLike>;
  readonly metadata?: string;
}

/** The user and session of an identity `userID___sessionID` (a bare identity is both). */
export function parseIdentity(identity: string): { userId: string; sessionId: string } {
  const cut = identity.indexOf('___');
  if (cut <= 0) return { userId: identity, sessionId: identity };
  return { userId: identity.slice(0, cut), sessionId: identity.slice(cut + 3) };
}

/** The host's user id from the room metadata (`{"host_id": …}`), '' when there is none. */
export function hostOf(metadata: string | undefined): string {
  if (!metadata) return '';
  try {
    const parsed = JSON.parse(metadata) as { host_id?: unknown };
    return typeof parsed.host_id === 'string' ? parsed.host_id : '';
  } catch {
    return '';
  }
}

/** When the hand went up: the attribute's number, 1 for any other non-empty value, else 0. */
export function raisedHandOf(attributes: Readonly<Record<string, string>>): number {
  const value = attributes[RAISED_HAND] ?? '';
  if (value === '') return 0;
  const at = Number(value);
  return Number.isFinite(at) && at > 0 ? at : 1;
}

const publication = (p: ParticipantLike, source: string): PublicationLike | undefined =>
  [...p.trackPublications.values()].find((t) => t.source === source);

/** Everyone in the room (this page included), in the order they joined. */
export function roomSnapshot(room: RoomLike): CallSnapshot {
  const everyone = [room.localParticipant, ...room.remoteParticipants.values()];
  const joined = (p: ParticipantLike) => p.joinedAt?.getTime() ?? Number.MAX_SAFE_INTEGER;
  const ordered = everyone
    .map((p, i) => ({ p, i }))
    .sort((a, b) => joined(a.p) - joined(b.p) || a.i - b.i)
    .map(({ p }) => p);
  const sharer = ordered.find((p) => publication(p, SOURCE.screen) !== undefined);
  return {
    participants: ordered.map((p) => {
      const mic = publication(p, SOURCE.microphone);
      const camera = publication(p, SOURCE.camera);
      return {
        ...parseIdentity(p.identity),
        unmuted: mic !== undefined && !mic.isMuted,
        raisedHand: raisedHandOf(p.attributes),
        video: camera !== undefined && !camera.isMuted,
        speaking: p.isSpeaking,
      };
    }),
    hostId: hostOf(room.metadata),
    screenSessionId: sharer ? parseIdentity(sharer.identity).sessionId : '',
  };
}
