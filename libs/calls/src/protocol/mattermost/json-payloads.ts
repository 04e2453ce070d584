import { InvalidMessageError } from '../../errors/invalid-message.error';
import type { EmojiData } from '../../calls/call-events';
import type { SentVideo } from '../../calls/participant-actions.service';
import type { MediaTrackPreference } from '../../media/media-plane.interface';

/** The largest video side a client may name (pixels). */
const MAX_VIDEO_SIDE = 16384;

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

/**
 * `track_settings` data (this server's extension of Mattermost's protocol): how the client wants
 * another session's camera or screen share, as JSON `{"session_id": "<sender>", "type": "video" |
 * "screen", "disabled"?: boolean, "width"?: px, "height"?: px, "quality"?: "low" | "medium" |
 * "high"}` (LiveKit's `UpdateTrackSettings`, by sender instead of track).
 */
export function parseTrackSettings(text: string): {
  video: SentVideo;
  preference: MediaTrackPreference;
} {
  const o = parseObject('track_settings', text);
  const sessionId = shortString('session_id', o.session_id, 128, true)!;
  if (o.type !== 'video' && o.type !== 'screen') {
    throw new InvalidMessageError('type', 'must be "video" or "screen"');
  }
  if (o.disabled !== undefined && typeof o.disabled !== 'boolean') {
    throw new InvalidMessageError('disabled', 'must be a boolean');
  }
  const size = (key: 'width' | 'height'): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_VIDEO_SIDE) {
      throw new InvalidMessageError(key, `must be an integer from 0 to ${MAX_VIDEO_SIDE}`);
    }
    return v;
  };
  const quality = o.quality;
  if (quality !== undefined && quality !== 'low' && quality !== 'medium' && quality !== 'high') {
    throw new InvalidMessageError('quality', 'must be "low", "medium" or "high"');
  }
  const width = size('width');
  const height = size('height');
  return {
    video: { sessionId, type: o.type },
    preference: {
      ...(o.disabled !== undefined ? { disabled: o.disabled } : {}),
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      ...(quality !== undefined ? { quality } : {}),
    },
  };
}
