import { randomBytes } from 'node:crypto';

/**
 * LiveKit's object ids. Clients check the `PA_`/`TR_` prefixes, and they must be the same on every
 * instance, so participant and room ids derive from the session and call ids; a track id is new.
 */
export const LiveKitIds = {
  /** The participant id of a session. */
  participant: (sessionId: string): string => `PA_${sessionId}`,
  /** The room id of a call. */
  room: (callId: string): string => `RM_${callId}`,
  /** A fresh track id (`TR_` and 12 base62 characters). */
  newTrack: (): string => `TR_${base62(12)}`,
} as const;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(length: number): string {
  // 248 = 4 × 62: bytes at or above it are skipped so every character is equally likely.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
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
