import {
  RequestResponse_Reason,
  SignalRequest,
  type SignalResponse,
  TrackSource,
  type UpdateParticipantMetadata,
} from '@livekit/protocol';
import {
  garbageValue,
  longString,
  mutateCandidateLine,
  mutateSdp,
  NASTY_STRINGS,
  type Rng,
} from './fuzz';
import type { ServerMessage } from './livekit-test-client';
import { fuzzMessage, fuzzString } from './protobuf-fuzz';

/** A client request (`SignalRequest.message`). */
export type SignalMessage = SignalRequest['message'];
/** The kind of a client request. */
export type SignalCase = NonNullable<SignalMessage['case']>;
/** The kind of a server message. */
export type ServerCase = NonNullable<SignalResponse['message']['case']>;

/**
 * What the server must do with a request (besides never failing internally and keeping the
 * connection): `refused` = a `request_response` whose reason is not OK, with a message (and the
 * request's `request_id`, if it has one); `answered` = a reply of one of `replies`, or such a
 * refusal; `any` = whatever (an ignored request, or one that may or may not be valid).
 */
export type SignalExpectation = 'refused' | 'answered' | 'any';

/** One hostile request. */
export interface HostileSignal {
  readonly message: SignalMessage;
  readonly expect: SignalExpectation;
  /** Server messages that answer it (`answered`). */
  readonly replies: readonly ServerCase[];
  /** `<case>:<category>`, for the tallies. */
  readonly kind: string;
}

/** What the generator knows about the sender and the world. */
export interface LiveKitHostileContext {
  readonly rng: Rng;
  /** Whether the sender's token lets it publish a track of this source. */
  readonly mayPublish: (source: TrackSource) => boolean;
  /** Whether the sender's token lets it change its own name, metadata and attributes. */
  readonly canUpdateOwnMetadata: boolean;
  /** A real publisher offer (the seed of SDP mutation) and its host candidates. */
  readonly offer: string;
  readonly candidates: readonly string[];
  /** Sids of the sender's own announced tracks (from `track_published`). */
  readonly ownTracks: readonly string[];
  /** Sids of other participants' tracks. */
  readonly foreignTracks: readonly string[];
}

/** Largest request this corpus sends (the server closes the connection above 64 KiB). */
const MAX_REQUEST_BYTES = 60 * 1024;

/**
 * Every case of `SignalRequest.message`, read from the generated type, except `leave` (it ends the
 * session: tested on its own).
 */
const FUZZED_CASES: readonly SignalCase[] = SignalRequest.fields
  .list()
  .filter((f) => f.oneof?.localName === 'message' && f.localName !== 'leave')
  .map((f) => f.localName as SignalCase);

type Draft = Omit<HostileSignal, 'kind'> & { category: string };

type CaseValue<C extends SignalCase> = Extract<SignalMessage, { case: C }>['value'];

/** A fuzzed value of a request case, of its generated type. */
function valueOf<C extends SignalCase>(rng: Rng, c: C): CaseValue<C> {
  const field = SignalRequest.fields.list().find((f) => f.localName === c)!;
  if (field.kind !== 'message') throw new Error(`${c} is not a message`);
  return fuzzMessage(rng, field.T, 0, {
    maxBytes: rng.chance(0.9) ? 512 : 8192,
  }) as unknown as CaseValue<C>;
}

/** An SDP that is garbage, a mutation of the real offer, huge, or the real offer itself. */
function hostileSdp(ctx: LiveKitHostileContext): { sdp: string; category: string } {
  const { rng } = ctx;
  switch (rng.int(6)) {
    case 0:
      return { sdp: fuzzString(rng, 2000), category: 'garbage' };
    case 1:
      return {
        sdp: `v=0\r\n${Array.from({ length: 1500 }, (_, i) => `a=x-${i}:${rng.string(30)}`).join('\r\n')}\r\n`,
        category: 'huge',
      };
    case 2:
      return { sdp: ctx.offer, category: 'real' };
    default:
      return { sdp: mutateSdp(rng, ctx.offer), category: 'mutated' };
  }
}

/** A trickle `candidate_init`: a mutated real candidate, JSON of garbage, or no JSON at all. */
function hostileCandidateInit(ctx: LiveKitHostileContext): {
  init: string;
  category: string;
  refused: boolean;
} {
  const { rng } = ctx;
  const line = rng.pick(ctx.candidates);
  switch (rng.int(6)) {
    case 0: {
      const init = rng.pick(['{', 'candidate:1 1 udp', '', 'null', '[', '{"candidate":']);
      // 'null' is JSON (of no candidate): ignored.
      return { init, category: 'not-json', refused: init !== 'null' };
    }
    case 1:
      return { init: JSON.stringify(garbageValue(rng)), category: 'json-garbage', refused: false };
    case 2:
      return {
        init: JSON.stringify({ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }),
        category: 'end',
        refused: false,
      };
    case 3:
      return {
        init: JSON.stringify({ candidate: line, sdpMid: rng.pick(['0', '', 'x'.repeat(300)]) }),
        category: 'real',
        refused: false,
      };
    default:
      return {
        init: JSON.stringify({
          candidate: `candidate:${mutateCandidateLine(rng, line.replace(/^candidate:/, ''))}`,
          sdpMid: '0',
          sdpMLineIndex: rng.pick([0, -1, 65536, 1.5]),
          usernameFragment: rng.pick([undefined, '', rng.pick(NASTY_STRINGS)]),
        }),
        category: 'mutated',
        refused: false,
      };
  }
}

/** `update_metadata` drafts: grant checks, huge maps, the hand, fuzzed names and attributes. */
function metadataDraft(ctx: LiveKitHostileContext, value: UpdateParticipantMetadata): Draft {
  const { rng } = ctx;
  const size = rng.int(6);
  const big = size <= 1;
  if (size === 0) {
    // Far over the 16 KiB a participant's name, metadata and attributes may take.
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) attributes[`k${i}-${rng.string(6)}`] = rng.string(16);
    value.attributes = attributes;
    if (rng.chance(0.5)) value.metadata = longString(rng, 20_000).slice(0, 20_000);
  } else if (size === 1) {
    // The hand is an attribute too: a huge one is refused, not raised.
    value.attributes = { raised_hand: rng.string(17_000 + rng.int(20_000)) };
  }
  if (!ctx.canUpdateOwnMetadata) {
    // Without the grant even the hand is refused (its state must not change).
    if (rng.chance(0.3)) value.attributes = { ...value.attributes, raised_hand: '1' };
    return {
      message: { case: 'updateMetadata', value },
      expect: 'refused',
      replies: [],
      category: 'no-grant',
    };
  }
  if (big) {
    return {
      message: { case: 'updateMetadata', value },
      expect: 'refused',
      replies: [],
      category: size === 0 ? 'huge' : 'huge-hand',
    };
  }
  // The hand goes only down: a raised hand is a real state change.
  if ('raised_hand' in value.attributes || rng.chance(0.2)) value.attributes.raised_hand = '';
  return {
    message: { case: 'updateMetadata', value },
    expect: 'any',
    replies: [],
    category: 'fuzzed',
  };
}

function draft(ctx: LiveKitHostileContext, c: SignalCase): Draft {
  const { rng } = ctx;
  switch (c) {
    case 'ping':
      return {
        message: {
          case: 'ping',
          value: rng.pick([0n, -1n, 2n ** 63n - 1n, BigInt(rng.int(2 ** 31))]),
        },
        expect: 'answered',
        replies: ['pong'],
        category: 'fuzzed',
      };
    case 'pingReq':
      return {
        message: { case: c, value: valueOf(rng, c) },
        expect: 'answered',
        replies: ['pongResp'],
        category: 'fuzzed',
      };
    case 'offer': {
      const value = valueOf(rng, c);
      const { sdp, category } = hostileSdp(ctx);
      value.sdp = sdp;
      return { message: { case: c, value }, expect: 'answered', replies: ['answer'], category };
    }
    case 'answer': {
      const value = valueOf(rng, c);
      const { sdp, category } = hostileSdp(ctx);
      value.sdp = sdp;
      value.id = rng.pick([0, 1, 2, value.id]);
      return { message: { case: c, value }, expect: 'any', replies: [], category };
    }
    case 'trickle': {
      const value = valueOf(rng, c);
      const { init, category, refused } = hostileCandidateInit(ctx);
      value.candidateInit = init;
      return {
        message: { case: c, value },
        expect: refused ? 'refused' : 'any',
        replies: [],
        category,
      };
    }
    case 'addTrack': {
      const value = valueOf(rng, c);
      // An unmuted microphone unmutes the session (a real state change): announce it muted.
      if (value.source === TrackSource.MICROPHONE) value.muted = true;
      const allowed = ctx.mayPublish(value.source);
      return {
        message: { case: c, value },
        expect: allowed ? 'answered' : 'refused',
        replies: ['trackPublished'],
        category: allowed ? 'allowed' : 'not-allowed',
      };
    }
    case 'mute': {
      const value = valueOf(rng, c);
      const target = rng.int(3);
      if (target === 0 && ctx.ownTracks.length > 0) {
        value.sid = rng.pick(ctx.ownTracks);
        // Unmuting its own microphone is a real state change: only mute.
        value.muted = true;
        return { message: { case: c, value }, expect: 'any', replies: [], category: 'own' };
      }
      if (target === 1 && ctx.foreignTracks.length > 0) value.sid = rng.pick(ctx.foreignTracks);
      return {
        message: { case: c, value },
        expect: 'refused',
        replies: [],
        category: target === 1 ? 'foreign' : 'unknown',
      };
    }
    case 'updateMetadata':
      return metadataDraft(ctx, valueOf(rng, c));
    default:
      // Requests this server ignores (subscriptions, layers, sync state, data tracks, …).
      return {
        message: { case: c, value: valueOf(rng, c) } as SignalMessage,
        expect: 'any',
        replies: [],
        category: 'fuzzed',
      };
  }
}

/** Weights of the cases: the ones the server acts on more often than the ones it ignores. */
const WEIGHTS: Partial<Record<SignalCase, number>> = {
  offer: 6,
  answer: 4,
  trickle: 5,
  addTrack: 4,
  mute: 3,
  updateMetadata: 5,
  ping: 1,
  pingReq: 1,
};

/**
 * One hostile request, built with `@livekit/protocol`'s generated types: a case of
 * `SignalRequest.message` (every case but `leave`) with fuzzed fields, where the server acts on
 * them aimed at its checks (SDP and candidates mutated from real ones, grants, sizes, other
 * participants' tracks). Never one that would validly change what `GET /{channel}` shows (a
 * raised hand, an unmuted microphone), so the call's state must stay as it was; never over
 * {@link MAX_REQUEST_BYTES}.
 */
export function hostileSignal(ctx: LiveKitHostileContext): HostileSignal {
  for (;;) {
    const c = ctx.rng.weighted(FUZZED_CASES.map((k) => [WEIGHTS[k] ?? 1, k] as const));
    const { category, ...d } = draft(ctx, c);
    const bytes = new SignalRequest({ message: d.message }).toBinary().byteLength;
    if (bytes <= MAX_REQUEST_BYTES) return { ...d, kind: `${c}:${category}` };
  }
}

/** A short, bounded description of a request for failure reports. */
export function describeRequest(m: SignalMessage): string {
  const json = JSON.stringify(new SignalRequest({ message: m }).toJson(), (_k, v: unknown) =>
    typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v,
  );
  return (json ?? '').slice(0, 300);
}

/**
 * Why the server's answer to a request (what came before the marker pong of
 * `LiveKitTestClient.request`) is not what the corpus demands; null when it is. Every
 * `request_response` must have a message and never be an internal error; a refused
 * `update_metadata` carries its `request_id`; a ping gets its pong.
 */
export function answerProblem(s: HostileSignal, replies: readonly ServerMessage[]): string | null {
  const refusals = replies.flatMap((m) => (m.case === 'requestResponse' ? [m.value] : []));
  for (const r of refusals) {
    if (r.message === '') return 'request_response without a message';
    if (/internal/i.test(r.message)) return `internal error: ${r.message}`;
  }
  const refused = refusals.some((r) => r.reason !== RequestResponse_Reason.OK);
  const requestId = s.message.case === 'updateMetadata' ? s.message.value.requestId : undefined;
  if (refused && requestId !== undefined && !refusals.some((r) => r.requestId === requestId)) {
    return `refusal without the request_id ${requestId}`;
  }
  if (s.message.case === 'ping') {
    const value = s.message.value;
    return replies.some((m) => m.case === 'pong' && m.value === value) ? null : 'no pong';
  }
  const got = replies.map((m) => m.case).join(',') || 'nothing';
  if (s.expect === 'refused' && !refused) return `not refused (got ${got})`;
  if (s.expect === 'answered' && !refused && !replies.some((m) => s.replies.includes(m.case!))) {
    return `no ${s.replies.join('/')} and no refusal (got ${got})`;
  }
  return null;
}
