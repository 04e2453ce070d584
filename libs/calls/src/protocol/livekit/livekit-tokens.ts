import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import {
  grantsFromClaim,
  type LiveKitGrants,
  type LiveKitGrantsInput,
  trackSourceOf,
  type TrackSourceName,
} from './livekit-grants';

/** Longest token accepted (a LiveKit token is well under 2 KiB). */
const MAX_TOKEN_LENGTH = 8192;
/** Clock skew allowed on `exp`/`nbf` (LiveKit's). */
const CLOCK_TOLERANCE_SECONDS = 10;

/** A LiveKit API key and its secret. */
export interface LiveKitApiKey {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** What a host app (or this module) puts in a token it mints. */
export interface LiveKitTokenRequest {
  /** The participant identity (`sub`): `userID___sessionID`, or a user id alone. */
  readonly identity: string;
  /** Display name (`name`). */
  readonly name?: string;
  /** The room (`video.room`): a channel id. */
  readonly room: string;
  readonly grants?: LiveKitGrantsInput;
  readonly metadata?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Lifetime in seconds. */
  readonly ttlSeconds: number;
}

/** A token that verified: who, which room, what it may do. */
export interface VerifiedLiveKitToken {
  /** The API key that signed it (`iss`). */
  readonly apiKey: string;
  /** `sub`. */
  readonly identity: string;
  /** `video.room`. */
  readonly room: string;
  /** `name`, empty when unset. */
  readonly name: string;
  /** `metadata`, empty when unset. */
  readonly metadata: string;
  /** `attributes`, string values only. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly grants: LiveKitGrants;
  /** The token's lifetime (`exp` − `nbf`/`iat`), for refreshed tokens. */
  readonly ttlSeconds: number;
}

/** Why a token was refused (the client is told 401 and nothing more). */
export class LiveKitTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Mints a LiveKit access token (HS256, `iss` = the API key) with `livekit-server-sdk`. */
export function mintLiveKitToken(
  key: LiveKitApiKey,
  request: LiveKitTokenRequest,
): Promise<string> {
  const token = new AccessToken(key.apiKey, key.apiSecret, {
    identity: request.identity,
    name: request.name,
    metadata: request.metadata,
    attributes: request.attributes ? { ...request.attributes } : undefined,
    ttl: request.ttlSeconds,
  });
  const g = request.grants ?? {};
  token.addGrant({
    roomJoin: true,
    room: request.room,
    ...(g.canPublish !== undefined ? { canPublish: g.canPublish } : {}),
    ...(g.canSubscribe !== undefined ? { canSubscribe: g.canSubscribe } : {}),
    ...(g.canPublishData !== undefined ? { canPublishData: g.canPublishData } : {}),
    ...(g.canUpdateOwnMetadata !== undefined
      ? { canUpdateOwnMetadata: g.canUpdateOwnMetadata }
      : {}),
    ...(g.hidden !== undefined ? { hidden: g.hidden } : {}),
    // Numbers: the SDK has its own copy of the protocol's TrackSource enum.
    ...(g.canPublishSources ? { canPublishSources: g.canPublishSources.map(sourceNumber) } : {}),
  });
  return token.toJwt();
}

/**
 * The module's LiveKit keys: verifies client tokens (HS256 only, `iss` selects the key, `exp`
 * required, 10 s clock tolerance, `video.roomJoin` and `video.room` required, `sub` = identity)
 * and mints tokens. Secrets never leave this object.
 */
export class LiveKitTokens {
  private readonly keys: ReadonlyMap<string, string>;

  constructor(keys: Readonly<Record<string, string>>) {
    this.keys = new Map(Object.entries(keys));
  }

  /** Whether any key is configured (else the LiveKit endpoint is off). */
  get enabled(): boolean {
    return this.keys.size > 0;
  }

  /** @throws LiveKitTokenError for any token that does not verify or lacks a room join */
  async verify(token: string): Promise<VerifiedLiveKitToken> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new LiveKitTokenError('no token, or too long');
    }
    const { alg, iss } = peek(token);
    if (alg !== 'HS256') throw new LiveKitTokenError('not an HS256 token');
    const secret = typeof iss === 'string' ? this.keys.get(iss) : undefined;
    if (typeof iss !== 'string' || secret === undefined) {
      throw new LiveKitTokenError('unknown API key');
    }
    let claims: Record<string, unknown>;
    try {
      claims = await new TokenVerifier(iss, secret).verify(token, CLOCK_TOLERANCE_SECONDS);
    } catch (err) {
      throw new LiveKitTokenError(`token does not verify: ${(err as Error).message}`);
    }
    const video = isRecord(claims.video) ? claims.video : {};
    const identity = claims.sub;
    if (typeof identity !== 'string' || identity === '') {
      throw new LiveKitTokenError('no identity (sub)');
    }
    if (video.roomJoin !== true) throw new LiveKitTokenError('no roomJoin grant');
    if (typeof video.room !== 'string' || video.room === '') {
      throw new LiveKitTokenError('no room in the grant');
    }
    const exp = claims.exp as number;
    const start = [claims.nbf, claims.iat].find((v): v is number => typeof v === 'number');
    return {
      apiKey: iss,
      identity,
      room: video.room,
      name: typeof claims.name === 'string' ? claims.name : '',
      metadata: typeof claims.metadata === 'string' ? claims.metadata : '',
      attributes: stringValues(claims.attributes),
      grants: grantsFromClaim(video),
      ttlSeconds: Math.max(60, exp - (start ?? exp - 3600)),
    };
  }

  /**
   * Mints a token with the first configured key, or with the key named `apiKey`.
   * @throws Error when no key is configured (or the named one is unknown)
   */
  mint(request: LiveKitTokenRequest, apiKey?: string): Promise<string> {
    const key = apiKey ?? this.keys.keys().next().value;
    const secret = key === undefined ? undefined : this.keys.get(key);
    if (key === undefined || secret === undefined) {
      return Promise.reject(new Error('no LiveKit API key configured'));
    }
    return mintLiveKitToken({ apiKey: key, apiSecret: secret }, request);
  }
}

/** The header's `alg` and the payload's `iss`, read before verification to pick the key. */
function peek(token: string): { alg: unknown; iss: unknown } {
  const [header, payload] = token.split('.');
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    const p = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as unknown;
    if (!isRecord(h) || !isRecord(p)) throw new Error('not objects');
    return { alg: h.alg, iss: p.iss };
  } catch {
    throw new LiveKitTokenError('not a JWT');
  }
}

function sourceNumber(name: TrackSourceName): number {
  return trackSourceOf(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringValues(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
