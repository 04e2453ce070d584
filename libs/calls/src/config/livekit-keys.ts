import type { EnvParser } from './env-parsers';

/** Shortest LiveKit API secret accepted (HS256 wants at least 256 bits of key). */
export const MIN_LIVEKIT_SECRET_LENGTH = 32;

/** Default path of the LiveKit endpoint. */
export const DEFAULT_LIVEKIT_PATH = '/livekit';

const KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const PATH = /^(\/[A-Za-z0-9._~-]+)+\/?$|^\/$/;

/**
 * Problems of a key set (empty when it is fine): key names of letters, digits and `_ . -`,
 * secrets of at least {@link MIN_LIVEKIT_SECRET_LENGTH} characters. Secrets are never shown.
 */
export function liveKitKeyProblems(keys: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [key, secret] of Object.entries(keys)) {
    if (!KEY.test(key)) {
      problems.push(`LiveKit API key ${JSON.stringify(key.slice(0, 40))} is not allowed`);
    } else if (typeof secret !== 'string' || secret.length < MIN_LIVEKIT_SECRET_LENGTH) {
      problems.push(
        `the secret of LiveKit API key "${key}" is too short; expected at least ${MIN_LIVEKIT_SECRET_LENGTH} characters`,
      );
    }
  }
  return problems;
}

/** `key1:secret1,key2:secret2` (secrets of at least 32 characters), never echoed in errors. */
export const liveKitKeys: EnvParser<Record<string, string>> = {
  parse: (raw) => {
    const keys: Record<string, string> = {};
    for (const item of raw.split(',').map((s) => s.trim())) {
      if (item === '') continue;
      const colon = item.indexOf(':');
      if (colon <= 0) return undefined;
      const key = item.slice(0, colon);
      if (key in keys) return undefined;
      keys[key] = item.slice(colon + 1);
    }
    if (Object.keys(keys).length === 0) return undefined;
    return liveKitKeyProblems(keys).length === 0 ? keys : undefined;
  },
  allowed: `comma-separated key:secret pairs (key: letters, digits, _ . -; secret: at least ${MIN_LIVEKIT_SECRET_LENGTH} characters)`,
  secret: true,
};

/** An absolute URL path such as `/livekit` (letters, digits, `. _ ~ -`). */
export const liveKitPath: EnvParser<string> = {
  parse: (raw) => (PATH.test(raw.trim()) ? normalizeLiveKitPath(raw.trim()) : undefined),
  allowed: 'an absolute path such as /livekit (letters, digits and . _ ~ -)',
};

/** `/livekit/` → `/livekit`; `/` → `` (the endpoint at the server root). */
export function normalizeLiveKitPath(path: string): string {
  return path.replace(/\/+$/, '');
}
