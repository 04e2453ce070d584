/** Default prefix of every Redis key and channel: gives exactly the seed document's keys. */
export const DEFAULT_KEY_PREFIX = 'rustchat:calls:';
