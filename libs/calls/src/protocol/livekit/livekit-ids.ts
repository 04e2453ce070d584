import { createHash, randomBytes } from 'node:crypto';

/**
 * LiveKit's object ids. Clients check the `PA_`/`TR_` prefixes, and they must be the same on every
 * instance, so each derives from what every instance knows: participant and room ids from the
 * session and call ids, a track id from its session and the client's id of the track.
 */
export const LiveKitIds = {
  /** The participant id of a session. */
  participant: (sessionId: string): string => `PA_${sessionId}`,
  /** The room id of a call. */
  room: (callId: string): string => `RM_${callId}`,
  /**
   * The track id of a session's track: `TR_` and 12 base62 characters of a hash of the session
   * id and the client's track id (`AddTrackRequest.cid`, the `a=msid` track id), so `add_track`
   * (answered before the media exists) and every instance that forwards the media agree.
   */
  track: (sessionId: string, clientTrackId: string): string =>
    `TR_${base62(createHash('sha512').update(`${sessionId}|${clientTrackId}`).digest(), 12)}`,
} as const;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` base62 characters of `bytes` (64 bytes of a hash: far more than 12 ever need). */
function base62(bytes: Uint8Array, length: number): string {
  // 248 = 4 × 62: bytes at or above it are skipped so every character is equally likely.
  let out = '';
  for (const byte of bytes) {
    if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
  }
  return out;
}

const SESSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A server-minted session id for a LiveKit participant whose identity names no session: 26
 * lowercase letters and digits, like a Mattermost connection id.
 */
export function newSessionId(): string {
  let out = '';
  for (const byte of randomBytes(26)) out += SESSION_ALPHABET[byte % 36];
  return out;
}
