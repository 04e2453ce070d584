import { createHmac } from 'node:crypto';

/** One TURN server entry with short-lived credentials (coturn's REST API auth). */
export interface TurnCredentials {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * `username = "<expiry unix seconds>:<user>"`, `credential = base64(HMAC-SHA1(secret, username))`,
 * as Mattermost and coturn's `use-auth-secret` expect.
 */
export function turnCredentials(
  urls: string[],
  secret: string,
  user: string,
  ttlMinutes: number,
  nowMs = Date.now(),
): TurnCredentials {
  const expiry = Math.floor(nowMs / 1000) + ttlMinutes * 60;
  const username = `${expiry}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { urls, username, credential };
}
