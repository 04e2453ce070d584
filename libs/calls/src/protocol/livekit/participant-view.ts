import { TrackSource, type TrackType } from '@livekit/protocol';
import type { LiveKitGrants } from './livekit-grants';

/** LiveKit's attribute for a raised hand (Mattermost's): the time it went up, '' when down. */
export const RAISED_HAND_ATTRIBUTE = 'raised_hand';

/** One simulcast layer of a published video track (LiveKit's `VideoLayer`). */
export interface TrackLayerView {
  /** LiveKit's `VideoQuality` (LOW 0, MEDIUM 1, HIGH 2). */
  readonly quality: number;
  readonly width: number;
  readonly height: number;
  /** bit/s, as the publisher announced it. */
  readonly bitrate: number;
}

/** A published track as the room sees it (plain data: it travels between instances as JSON). */
export interface TrackView {
  readonly sid: string;
  /** The client's id of the track (`AddTrackRequest.cid`). */
  readonly cid: string;
  readonly type: TrackType;
  readonly source: TrackSource;
  readonly name: string;
  readonly muted: boolean;
  readonly width: number;
  readonly height: number;
  readonly stream: string;
  /** A simulcast video track's layers, lowest first (as its publisher announced them). */
  readonly layers?: readonly TrackLayerView[];
}

/**
 * One participant as a LiveKit client is shown it: any session of the call, LiveKit's or
 * Mattermost's (plain data: it travels between instances as JSON).
 */
export interface ParticipantView {
  readonly sessionId: string;
  /** `userID___sessionID` (wire ids). */
  readonly identity: string;
  readonly name: string;
  readonly metadata: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Published tracks. */
  readonly tracks: readonly TrackView[];
  readonly joinedAtMs: number;
  /** The grants of a LiveKit participant; absent for a Mattermost session. */
  readonly permission?: LiveKitGrants;
  /** Whether the session's microphone is on, as the call state says. */
  readonly unmuted: boolean;
}

/** The session's microphone track, if it publishes one. */
export function micTrack(view: ParticipantView): TrackView | undefined {
  return view.tracks.find((t) => t.source === TrackSource.MICROPHONE);
}

/** The view with its microphone track (if any) muted or not, and `unmuted` set. */
export function withMicMuted(view: ParticipantView, muted: boolean): ParticipantView {
  return {
    ...view,
    unmuted: !muted,
    tracks: view.tracks.map((t) => (t.source === TrackSource.MICROPHONE ? { ...t, muted } : t)),
  };
}

/** Merges attribute changes: an empty value deletes the attribute (LiveKit's rule). */
export function mergeAttributes(
  current: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string>>,
): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}
