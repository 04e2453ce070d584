import type { SessionAction } from '../calls/session-relay.interface';

const MAX_SDP = 1024 * 1024;
const MAX_TEXT = 1024;

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function text(o: Record<string, unknown>, key: string, max = MAX_TEXT): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new Error(`${key} is not a non-empty string`);
  }
  return v;
}

function optionalText(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw new Error(`${key} is not a string`);
  return v;
}

function nullableText(o: Record<string, unknown>, key: string): string | null | undefined {
  return o[key] === null ? null : optionalText(o, key);
}

function flag(o: Record<string, unknown>, key: string): boolean {
  if (typeof o[key] !== 'boolean') throw new Error(`${key} is not a boolean`);
  return o[key];
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
          candidate: text(c, 'candidate'),
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
          name: text(e, 'name'),
          unified: optionalText(e, 'unified'),
          skin: optionalText(e, 'skin'),
          literal: optionalText(e, 'literal'),
        },
      };
    }
    case 'screen-on':
      return { type: 'screen-on', streamId: text(o, 'streamId') };
    case 'screen-off':
      return { type: 'screen-off' };
    case 'video':
      return { type: 'video', on: flag(o, 'on') };
    default:
      throw new Error('unknown action type');
  }
}
