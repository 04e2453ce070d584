import { InvalidMessageError } from '../../errors/invalid-message.error';
import type { EmojiData } from '../../calls/call-events';

function parseObject(field: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidMessageError(field, 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMessageError(field, 'is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function shortString(
  field: string,
  v: unknown,
  max: number,
  required: boolean,
): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new InvalidMessageError(field, `must be a string of 1 to ${max} characters`);
  }
  return v;
}

/** `react` data: Mattermost's EmojiData as JSON. */
export function parseEmoji(text: string): EmojiData {
  const o = parseObject('emoji', text);
  return {
    name: shortString('emoji.name', o.name, 64, true)!,
    unified: shortString('emoji.unified', o.unified, 64, false),
    skin: shortString('emoji.skin', o.skin, 32, false),
    literal: shortString('emoji.literal', o.literal, 32, false),
  };
}

/** `screen_on` / `video_on` data: `{"screenStreamID": "…"}` / `{"videoStreamID": "…"}`. */
export function parseStreamId(text: string, key: 'screenStreamID' | 'videoStreamID'): string {
  return shortString(key, parseObject(key, text)[key], 128, true)!;
}
