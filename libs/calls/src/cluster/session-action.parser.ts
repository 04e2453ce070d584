import type { SessionAction } from '../calls/session-relay.interface';
import type { MediaTrackPreference } from '../media/media-plane.interface';
import { flag, object, optionalText, text } from './bus-fields';

const MAX_SDP = 1024 * 1024;
const MAX_TEXT = 1024;
/** The largest video side a preference may name (pixels). */
const MAX_VIDEO_SIDE = 16384;

function nullableText(o: Record<string, unknown>, key: string): string | null | undefined {
  return o[key] === null ? null : optionalText(o, key, MAX_TEXT);
}

/** A relayed track preference (sizes bounded like a client's). */
function parsePreference(p: Record<string, unknown>): MediaTrackPreference {
  const size = (key: string): number | undefined => {
    const v = p[key];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_VIDEO_SIDE) {
      throw new Error(`${key} is not a size`);
    }
    return v as number;
  };
  const quality = p.quality;
  if (quality !== undefined && quality !== 'low' && quality !== 'medium' && quality !== 'high') {
    throw new Error('quality is wrong');
  }
  const disabled = p.disabled === undefined ? undefined : flag(p, 'disabled');
  const width = size('width');
  const height = size('height');
  return {
    ...(disabled !== undefined ? { disabled } : {}),
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(quality !== undefined ? { quality } : {}),
  };
}

/**
 * Parses a client action relayed by another instance (`session.action`): the instance that got
 * it from the client decoded and checked it, but what comes over the bus is checked for shape
 * again (during a rolling upgrade the other instance may run another version).
 * @throws Error naming what is wrong
 */
export function parseSessionAction(value: unknown): SessionAction {
  const o = object(value, 'action');
  switch (o.type) {
    case 'description': {
      const d = object(o.description, 'description');
      if (d.type !== 'offer' && d.type !== 'answer') throw new Error('description type is wrong');
      return { type: 'description', description: { type: d.type, sdp: text(d, 'sdp', MAX_SDP) } };
    }
    case 'ice': {
      const c = object(o.candidate, 'candidate');
      const index = c.sdpMLineIndex;
      if (index !== undefined && index !== null && !Number.isInteger(index)) {
        throw new Error('sdpMLineIndex is not an integer');
      }
      return {
        type: 'ice',
        candidate: {
          candidate: text(c, 'candidate', MAX_TEXT),
          sdpMid: nullableText(c, 'sdpMid'),
          sdpMLineIndex: index as number | null | undefined,
          usernameFragment: nullableText(c, 'usernameFragment'),
        },
      };
    }
    case 'mute':
      return { type: 'mute', muted: flag(o, 'muted') };
    case 'hand':
      return { type: 'hand', raised: flag(o, 'raised') };
    case 'react': {
      const e = object(o.emoji, 'emoji');
      return {
        type: 'react',
        emoji: {
          name: text(e, 'name', MAX_TEXT),
          unified: optionalText(e, 'unified', MAX_TEXT),
          skin: optionalText(e, 'skin', MAX_TEXT),
          literal: optionalText(e, 'literal', MAX_TEXT),
        },
      };
    }
    case 'screen-on':
      return { type: 'screen-on', streamId: text(o, 'streamId', MAX_TEXT) };
    case 'screen-off':
      return { type: 'screen-off' };
    case 'video': {
      const streamId = optionalText(o, 'streamId', MAX_TEXT);
      return { type: 'video', on: flag(o, 'on'), ...(streamId !== undefined ? { streamId } : {}) };
    }
    case 'track-settings': {
      const v = object(o.video, 'video');
      if (v.type !== 'video' && v.type !== 'screen') throw new Error('video type is wrong');
      return {
        type: 'track-settings',
        video: { sessionId: text(v, 'sessionId'), type: v.type },
        preference: parsePreference(object(o.preference, 'preference')),
      };
    }
    default:
      throw new Error('unknown action type');
  }
}
