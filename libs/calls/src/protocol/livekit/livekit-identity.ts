/** Mattermost's separator between the user id and the session id in a LiveKit identity. */
export const IDENTITY_SEPARATOR = '___';

/** A LiveKit identity taken apart (ids in their wire form). */
export interface ParsedIdentity {
  readonly userId: string;
  /** The session id the identity names; absent for a plain identity (the user id alone). */
  readonly sessionId?: string;
}

const USER_ID = /^[A-Za-z0-9.@:-]{1,128}$/;
/** No `_` (the separator) and no `|` (LiveKit's msid separator, `PA_x|TR_y`). */
const SESSION_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Parses an identity in Mattermost's convention, `userID___sessionID`, or a plain user id.
 * Returns null for anything else (empty parts, odd characters, more than one separator).
 */
export function parseIdentity(identity: string): ParsedIdentity | null {
  const parts = identity.split(IDENTITY_SEPARATOR);
  if (parts.length === 1) return USER_ID.test(identity) ? { userId: identity } : null;
  if (parts.length !== 2) return null;
  const [userId, sessionId] = parts;
  return USER_ID.test(userId) && SESSION_ID.test(sessionId) ? { userId, sessionId } : null;
}

/** `userID___sessionID`, the identity of a session (ids in their wire form). */
export function formatIdentity(userId: string, sessionId: string): string {
  return `${userId}${IDENTITY_SEPARATOR}${sessionId}`;
}
