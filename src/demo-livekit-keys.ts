import { randomBytes } from 'node:crypto';

const VARIABLE = 'RUSTCHAT_CALLS_LIVEKIT_KEYS';

/**
 * The demo host serves LiveKit's protocol out of the box (its calls page can join with
 * livekit-client): when `RUSTCHAT_CALLS_LIVEKIT_KEYS` is not set at all, it is set to a random key
 * of this process (tokens of the `livekit-token` route then verify on this process only, as
 * `DEMO_AUTH_SECRET`'s). Set it empty to keep the LiveKit endpoint off.
 * @returns what to log, or null when the variable was set
 */
export function defaultDemoLiveKitKeys(env: NodeJS.ProcessEnv): string | null {
  if (env[VARIABLE] !== undefined) return null;
  env[VARIABLE] = `demo:${randomBytes(32).toString('hex')}`;
  return `${VARIABLE} not set: the LiveKit endpoint uses a key of this process only`;
}
