import { deflateSync } from 'node:zlib';
import { ClientAction } from '@app/calls';
import {
  deepJson,
  garbageScalar,
  garbageString,
  garbageValue,
  invalidUtf8,
  longString,
  mutateCandidateLine,
  mutateSdp,
  NASTY_STRINGS,
  type Rng,
  wireBytes,
} from './fuzz';

/**
 * What the server must answer: `error` = an error ack with a code and a message; `ok` = success
 * (a payload the action ignores); `any` = either, but a clear one (a mutated SDP or candidate may
 * still be acceptable). No message of this corpus may change the call state when acknowledged
 * with an error, and none with `ok`/`any` changes what `GET /{channel}` shows.
 */
export type Expectation = 'error' | 'ok' | 'any';

/** One hostile client message. */
export interface HostileMessage {
  /** socket.io event name. */
  readonly event: string;
  /** Arguments before the ack callback (empty, one, or several). */
  readonly args: readonly unknown[];
  /**
   * Set instead of `args` for data no client library can encode (nesting thousands of levels
   * deep): the JSON text of the one argument, sent as a raw socket.io packet.
   */
  readonly rawJson?: string;
  /** Whether the client asks for an acknowledgement. */
  readonly ack: boolean;
  readonly expect: Expectation;
  /** `<action>:<category>`, for the tallies. */
  readonly kind: string;
}

/** What the generator knows about the world. */
export interface HostileContext {
  readonly rng: Rng;
  /** The channel whose call the in-call sockets are in. */
  readonly channel: string;
  /** A channel only admins may join. */
  readonly privateChannel: string;
  /** Session ids of other users' sessions in the call. */
  readonly foreignSessions: readonly string[];
  /** A real offer from a libwebrtc peer (audio, video, data channel). */
  readonly offer: string;
  /** Real `candidate:` lines gathered by that peer. */
  readonly candidates: readonly string[];
}

type Short = keyof typeof ClientAction;
interface Draft {
  args: unknown[];
  expect: Expectation;
  category: string;
}

/** The demo host's rule for channel names anyone may join. */
const OPEN_CHANNEL = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A channel id that fails the host's channel rule (lowercase, digits, `-`/`_`, ≤ 64) or is private. */
function badChannelId(ctx: HostileContext): unknown {
  const { rng } = ctx;
  switch (rng.int(7)) {
    case 0: {
      // Random garbage can be a fine channel name by accident ('abc'): spoil those.
      const v = garbageScalar(rng);
      return typeof v === 'string' && OPEN_CHANNEL.test(v) ? `${v}!` : v;
    }
    case 1:
      return `${ctx.channel}${rng.pick(['A', ' ', '.', '/', '\u0000', 'é', '\uD800', '%', '#'])}`;
    case 2:
      return 'x'.repeat(65 + rng.int(64)); // valid characters, too long for the host
    case 3:
      return 'x'.repeat(129 + rng.int(5000)); // too long for the DTO
    case 4:
      return `private-${rng.string(8)}`;
    case 5:
      return ctx.channel.toUpperCase();
    default:
      // Some nasty strings ('null', 'constructor') are fine channel names: keep the others.
      return rng.pick(NASTY_STRINGS.filter((s) => !OPEN_CHANNEL.test(s)));
  }
}

/** A value that is anything but a boolean. */
const notBoolean = (rng: Rng): unknown => rng.pick(['true', 1, 0, null, [], {}, 'yes']);

function join(ctx: HostileContext): Draft {
  const { rng } = ctx;
  const expect = 'error';
  switch (rng.int(6)) {
    case 0:
      return { args: [garbageValue(rng)], expect, category: 'shape' };
    case 1:
      return { args: [{}], expect, category: 'missing' };
    case 2:
      return { args: [{ channelID: badChannelId(ctx) }], expect, category: 'channel' };
    case 3:
      return {
        args: [
          { channelID: badChannelId(ctx), title: garbageString(rng), threadID: garbageValue(rng) },
        ],
        expect,
        category: 'fields',
      };
    case 4:
      return {
        args: [
          {
            channelID: badChannelId(ctx),
            av1Support: notBoolean(rng),
            dcSignaling: notBoolean(rng),
          },
        ],
        expect,
        category: 'flags',
      };
    default:
      return {
        args: [{ channelID: badChannelId(ctx) }, garbageValue(rng), garbageValue(rng)],
        expect,
        category: 'multi-arg',
      };
  }
}

function reconnect(ctx: HostileContext): Draft {
  const { rng } = ctx;
  const expect = 'error';
  const foreign = () =>
    ctx.foreignSessions.length ? rng.pick(ctx.foreignSessions) : rng.string(20);
  switch (rng.int(6)) {
    case 0:
      return { args: [garbageValue(rng)], expect, category: 'shape' };
    case 1:
      return { args: [{ channelID: ctx.channel }], expect, category: 'missing' };
    case 2:
      return {
        args: [{ channelID: ctx.channel, originalConnID: foreign(), prevConnID: foreign() }],
        expect,
        category: 'foreign-session',
      };
    case 3:
      return {
        args: [
          { channelID: ctx.channel, originalConnID: rng.string(20), prevConnID: garbageValue(rng) },
        ],
        expect,
        category: 'unknown-session',
      };
    case 4:
      return {
        args: [{ channelID: badChannelId(ctx), originalConnID: foreign(), prevConnID: foreign() }],
        expect,
        category: 'channel',
      };
    default:
      return {
        args: [{ channelID: ctx.channel, originalConnID: garbageString(rng) }],
        expect,
        category: 'bad-id',
      };
  }
}

/** The `sdp` payload in one of the encodings clients use. */
function encodeDescription(rng: Rng, description: unknown): { data: unknown; encoding: string } {
  const json = JSON.stringify(description);
  return rng.weighted<{ data: unknown; encoding: string }>([
    [6, { data: deflateSync(Buffer.from(json)), encoding: 'zlib' }],
    [1, { data: json, encoding: 'text' }],
    [1, { data: description, encoding: 'object' }],
    [1, { data: Buffer.from(json), encoding: 'bytes' }],
    [0.5, { data: Buffer.from(json).toJSON(), encoding: 'buffer-json' }],
    [0.5, { data: [...deflateSync(Buffer.from(json))], encoding: 'number-array' }],
  ]);
}

function sdp(ctx: HostileContext, inCall: boolean): Draft {
  const { rng } = ctx;
  switch (rng.int(10)) {
    case 0:
      return {
        args: [rng.pick([{}, { data: null }, garbageScalar(rng)])],
        expect: 'error',
        category: 'shape',
      };
    case 1:
      return { args: [{ data: garbageValue(rng) }], expect: 'error', category: 'garbage' };
    case 2: {
      const bytes = rng.pick([
        invalidUtf8(rng, '{"type":"offer","sdp":"v=0'),
        rng.bytes(1 + rng.int(4096)),
        Buffer.from([0x78, 0x9c, ...rng.bytes(64)]),
        deflateSync(invalidUtf8(rng)),
        deflateSync(Buffer.from(JSON.stringify({ sdp: ctx.offer }))),
      ]);
      return { args: [{ data: bytes }], expect: 'error', category: 'bytes' };
    }
    case 3: {
      const type = rng.pick(['', 'OFFER', 'pranswer', 'rollback', null, 1, garbageString(rng)]);
      const { data, encoding } = encodeDescription(rng, { type, sdp: ctx.offer });
      return { args: [{ data }], expect: 'error', category: `type-${encoding}` };
    }
    case 4: {
      const text = `{"type":"offer","sdp":"v=0\\r\\n${'a'.repeat(70_000)}"}`;
      return { args: [{ data: text }], expect: 'error', category: 'too-large' };
    }
    default: {
      const type = rng.chance(0.85) ? 'offer' : 'answer';
      const { data, encoding } = encodeDescription(rng, { type, sdp: mutateSdp(rng, ctx.offer) });
      return {
        args: [{ data }],
        expect: inCall ? 'any' : 'error',
        category: `mutated-${type}-${encoding}`,
      };
    }
  }
}

function ice(ctx: HostileContext, inCall: boolean): Draft {
  const { rng } = ctx;
  const line = () => rng.pick(ctx.candidates);
  const mutated = () => (rng.chance(0.85) ? mutateCandidateLine(rng, line()) : line());
  switch (rng.int(8)) {
    case 0:
      return {
        args: [
          rng.pick([
            { data: rng.pick([0, true, null, [], {}, rng.bytes(8), invalidUtf8(rng)]) },
            { data: 'x'.repeat(4097) },
            { candidate: 'x'.repeat(1025) },
            { candidate: line(), sdpMid: rng.pick([1, {}, 'm'.repeat(65)]) },
            { candidate: line(), sdpMLineIndex: rng.pick([-1, 1.5, 65536, '0', 1e308]) },
          ]),
        ],
        expect: 'error',
        category: 'fields',
      };
    case 1:
      return { args: [garbageValue(rng)], expect: 'error', category: 'shape' };
    case 2:
      return {
        args: [
          {
            data: rng.pick([
              '{',
              '[]',
              '"candidate:1"',
              'null',
              JSON.stringify({ candidate: 42 }),
              JSON.stringify({ sdpMid: '0' }),
              JSON.stringify({ candidate: line(), sdpMLineIndex: rng.pick([-1, 1.5, 65536, 'x']) }),
              JSON.stringify({ candidate: line(), usernameFragment: 'u'.repeat(65) }),
              JSON.stringify({ candidate: line(), sdpMid: { a: 1 } }),
              `{"candidate":"${'x'.repeat(4000)}"}`,
            ]),
          },
        ],
        expect: 'error',
        category: 'json',
      };
    case 3:
      return {
        args: [{ candidate: mutated(), sdpMid: '0', sdpMLineIndex: rng.int(3) }],
        expect: inCall ? 'any' : 'error',
        category: 'raw-line',
      };
    default:
      return {
        args: [
          {
            data: JSON.stringify({
              candidate: rng.chance(0.05) ? '' : mutated(),
              sdpMid: rng.pick(['0', '1', '2', null]),
              sdpMLineIndex: rng.pick([0, 1, 2, null]),
              usernameFragment: rng.pick([null, 'abcd', rng.string(8)]),
            }),
          },
        ],
        expect: inCall ? 'any' : 'error',
        category: 'mutated',
      };
  }
}

function jsonData(ctx: HostileContext, kind: 'react' | 'screen' | 'video', inCall: boolean): Draft {
  const { rng } = ctx;
  const key = kind === 'screen' ? 'screenStreamID' : 'videoStreamID';
  const shape = rng.int(kind === 'react' ? 5 : 4);
  if (shape === 0) {
    return {
      args: [
        rng.pick([{}, { data: garbageScalar(rng) }, { data: 'x'.repeat(4097) }, garbageValue(rng)]),
      ],
      expect: 'error',
      category: 'shape',
    };
  }
  if (shape === 1) {
    return {
      args: [
        {
          data: rng.pick([
            '{',
            '[]',
            'null',
            '"x"',
            '1',
            garbageString(rng),
            longString(rng, 3000),
          ]),
        },
      ],
      expect: 'error',
      category: 'json',
    };
  }
  if (kind !== 'react') {
    // Never a valid stream id: that would start a share (a state change).
    const value = rng.pick(['', 5, null, {}, [], 's'.repeat(129 + rng.int(3000)), true]);
    const wrongKey = kind === 'screen' ? 'videoStreamID' : 'screenStreamID';
    const payload = rng.chance(0.8) ? { [key]: value } : { [wrongKey]: 'stream-1' };
    return { args: [{ data: JSON.stringify(payload) }], expect: 'error', category: 'stream-id' };
  }
  if (shape < 4) {
    const emoji = rng.pick<Record<string, unknown>>([
      { name: '' },
      { name: 5 },
      { name: 'n'.repeat(65) },
      { unified: '1f389' },
      { name: 'tada', unified: 'u'.repeat(65) },
      { name: 'tada', skin: 's'.repeat(33) },
      { name: 'tada', literal: 'l'.repeat(33) },
      { name: 'tada', literal: 7 },
      { name: rng.pick(NASTY_STRINGS.filter((s) => s.length === 0)) },
    ]);
    return { args: [{ data: JSON.stringify(emoji) }], expect: 'error', category: 'emoji' };
  }
  const emoji = { name: rng.pick(NASTY_STRINGS.filter((s) => s.length > 0 && s.length <= 64)) };
  return {
    args: [{ data: JSON.stringify(emoji) }],
    expect: inCall ? 'ok' : 'error',
    category: 'odd-emoji',
  };
}

function channelAction(ctx: HostileContext): Draft {
  const { rng } = ctx;
  if (rng.chance(0.15))
    return { args: [{ channelID: `open-${rng.string(6)}` }], expect: 'ok', category: 'valid' };
  return {
    args: [rng.chance(0.8) ? { channelID: badChannelId(ctx) } : garbageValue(rng)],
    expect: 'error',
    category: 'bad',
  };
}

function metric(ctx: HostileContext): Draft {
  const { rng } = ctx;
  if (rng.chance(0.1)) {
    return {
      args: [{ metric_name: 'client_ice_candidate_pair', data: rng.pick(NASTY_STRINGS) }],
      expect: 'ok',
      category: 'valid',
    };
  }
  const body = rng.pick<Record<string, unknown>>([
    {},
    { metric_name: garbageString(rng) },
    { metric_name: 'X'.repeat(10) },
    { metric_name: 'm'.repeat(65) },
    { metric_name: 'ok', data: garbageScalar(rng) },
    { metric_name: 'ok', data: 'x'.repeat(4097) },
    { metric_name: 42 },
  ]);
  // Garbage can be a valid metric by accident ('null' is a fine name): expect what the DTO says.
  const { metric_name: name } = body;
  // NaN and Infinity travel as null.
  const data = typeof body.data === 'number' && !Number.isFinite(body.data) ? null : body.data;
  const valid =
    typeof name === 'string' &&
    /^[a-z0-9_]{1,64}$/.test(name) &&
    (data === undefined || data === null || (typeof data === 'string' && data.length <= 4096));
  return { args: [body], expect: valid ? 'ok' : 'error', category: 'bad' };
}

/** Actions without data: in a call only the ones that are idempotent for a muted, quiet session. */
const NO_DATA: readonly Short[] = [
  'leave',
  'mute',
  'unmute',
  'raiseHand',
  'unraiseHand',
  'screenOff',
  'videoOff',
];
const IDEMPOTENT_IN_CALL: readonly Short[] = ['mute', 'unraiseHand', 'screenOff', 'videoOff'];

function noData(ctx: HostileContext, inCall: boolean): { action: Short; draft: Draft } {
  const { rng } = ctx;
  const action = rng.pick(inCall ? IDEMPOTENT_IN_CALL : NO_DATA);
  const args = rng.pick([[], [garbageValue(rng)], [garbageScalar(rng), garbageValue(rng)]]);
  // Out of a call: `leave` is a no-op success; the rest need a session.
  const expect: Expectation = inCall || action === 'leave' ? 'ok' : 'error';
  return { action, draft: { args, expect, category: 'ignored-data' } };
}

/** Event names that are not actions (socket.io-client refuses its reserved names itself). */
function unknownEvent(ctx: HostileContext): string {
  const { rng } = ctx;
  return rng.pick([
    'error',
    'hello',
    '__proto__',
    'constructor',
    'toString',
    'custom_com.mattermost.calls_',
    'custom_com.mattermost.calls_JOIN',
    'custom_com.mattermost.calls_join ',
    'custom_com.mattermost.calls_mute_everyone',
    'custom_com.mattermost.calls_voice_on',
    'custom_com.mattermost.calls_caption',
    'custom_com.mattermost.calls_ping',
    `custom_com.mattermost.calls_${rng.string(20)}`,
    'x'.repeat(10_000),
    rng.pick(NASTY_STRINGS.filter((s) => s !== '')),
    invalidUtf8(rng).toString('utf8'),
  ]);
}

/** The message mix: weights per action. */
const MIX: readonly (readonly [number, Short | 'unknown'])[] = [
  [22, 'sdp'],
  [14, 'ice'],
  [7, 'join'],
  [6, 'reconnect'],
  [5, 'react'],
  [4, 'screenOn'],
  [4, 'videoOn'],
  [5, 'callState'],
  [4, 'metric'],
  [6, 'unknown'],
  [14, 'mute'], // stands for every action without data
];

const MAX_WIRE_BYTES = 240 * 1024;

/** One hostile message for a socket that is (or is not) in the call. */
export function hostileMessage(ctx: HostileContext, inCall: boolean): HostileMessage {
  for (;;) {
    const message = draftMessage(ctx, inCall);
    const bytes = message.rawJson?.length ?? wireBytes(message.args);
    if (bytes < MAX_WIRE_BYTES) return message;
  }
}

/** Actions whose data goes through DTO validation (which must survive any nesting depth). */
const VALIDATED: readonly Short[] = [
  'join',
  'reconnect',
  'sdp',
  'ice',
  'react',
  'screenOn',
  'videoOn',
  'callState',
  'metric',
];

/** Data nested thousands of levels deep in one field of an action's data. */
function deepMessage(ctx: HostileContext): HostileMessage {
  const { rng } = ctx;
  const action = rng.pick(VALIDATED);
  const field = rng.pick(['data', 'channelID', 'title', 'candidate', 'metric_name', 'extra']);
  const depth = rng.pick([50, 3000, 20_000, 60_000]);
  return {
    event: ClientAction[action],
    args: [],
    rawJson: `{"${field}":${deepJson(rng, depth)}}`,
    ack: true,
    expect: 'error',
    kind: `${action}:deep-${depth}`,
  };
}

function draftMessage(ctx: HostileContext, inCall: boolean): HostileMessage {
  const { rng } = ctx;
  if (rng.chance(0.02)) return deepMessage(ctx);
  const pick = rng.weighted(MIX);
  const ack = rng.chance(0.9);
  if (pick === 'unknown') {
    return {
      event: unknownEvent(ctx),
      args: rng.pick([[], [garbageValue(rng)]]),
      ack,
      expect: 'error',
      kind: 'unknown:event',
    };
  }
  let action: Short = pick;
  let draft: Draft;
  switch (pick) {
    case 'sdp':
      draft = sdp(ctx, inCall);
      break;
    case 'ice':
      draft = ice(ctx, inCall);
      break;
    case 'join':
      draft = join(ctx);
      break;
    case 'reconnect':
      draft = reconnect(ctx);
      break;
    case 'react':
      draft = jsonData(ctx, 'react', inCall);
      break;
    case 'screenOn':
      draft = jsonData(ctx, 'screen', inCall);
      break;
    case 'videoOn':
      draft = jsonData(ctx, 'video', inCall);
      break;
    case 'callState':
      draft = channelAction(ctx);
      break;
    case 'metric':
      draft = metric(ctx);
      break;
    default:
      ({ action, draft } = noData(ctx, inCall));
  }
  // A session action from a socket without a session is refused, whatever its data.
  const needsSession = !['join', 'reconnect', 'leave', 'callState', 'metric'].includes(action);
  const expect = !inCall && needsSession ? 'error' : draft.expect;
  return {
    event: ClientAction[action],
    args: draft.args,
    ack,
    expect,
    kind: `${action}:${draft.category}`,
  };
}
