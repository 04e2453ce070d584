import { Injectable, Logger } from '@nestjs/common';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  CallsIdentity,
  CallsPermissions,
  CallsPrincipal,
  HttpRequestInfo,
  SocketHandshakeInfo,
} from '@app/calls';

const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const NAME = /^[\p{L}\p{N} ._'-]{1,40}$/u;
const CHANNEL = /^[a-z0-9][a-z0-9_-]{0,63}$/;

interface TokenPayload {
  sub: string;
  name: string;
  admin: boolean;
  exp: number;
}

/**
 * The demo host's identity and permissions (a real chat app plugs in its own users and channels):
 *
 * - `POST /demo/login {name}` issues a signed token (HMAC-SHA256 with `DEMO_AUTH_SECRET`, a random
 *   secret per process when unset); the user id is derived from the name, so the same name is the
 *   same user. Names listed in `DEMO_ADMINS` (comma separated) are admins.
 * - Sockets authenticate with `auth: { token }` (or `Authorization: Bearer <token>`), requests with
 *   `Authorization: Bearer <token>`.
 * - Any channel name (lowercase letters, digits, `-`, `_`) may be joined by everyone, except
 *   channels starting with `private-`, which only admins may join.
 */
@Injectable()
export class DemoAuthService implements CallsIdentity, CallsPermissions {
  private readonly logger = new Logger(DemoAuthService.name);
  private readonly secret: Buffer;
  private readonly admins: Set<string>;

  constructor() {
    const configured = process.env.DEMO_AUTH_SECRET;
    this.secret = configured ? Buffer.from(configured) : randomBytes(32);
    if (!configured)
      this.logger.log('DEMO_AUTH_SECRET not set: tokens are valid for this process only');
    this.admins = new Set(
      (process.env.DEMO_ADMINS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }

  /** Issues a token for a display name. @returns null when the name is not acceptable */
  login(name: string): { token: string; userId: string; admin: boolean } | null {
    const trimmed = name.trim();
    if (!NAME.test(trimmed)) return null;
    const userId = `u-${createHash('sha256').update(trimmed.toLowerCase()).digest('hex').slice(0, 24)}`;
    const admin = this.admins.has(trimmed);
    const payload: TokenPayload = {
      sub: userId,
      name: trimmed,
      admin,
      exp: Date.now() + TOKEN_TTL_MS,
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, userId, admin };
  }

  authenticateSocket(handshake: SocketHandshakeInfo): Promise<CallsPrincipal | null> {
    const token =
      typeof handshake.auth.token === 'string' ? handshake.auth.token : bearer(handshake.headers);
    return Promise.resolve(this.verify(token));
  }

  authenticateRequest(request: HttpRequestInfo): Promise<CallsPrincipal | null> {
    return Promise.resolve(this.verify(bearer(request.headers)));
  }

  canJoinChannel(userId: string, channelId: string): Promise<boolean> {
    if (!CHANNEL.test(channelId)) return Promise.resolve(false);
    if (channelId.startsWith('private-')) return this.isAdmin(userId);
    return Promise.resolve(true);
  }

  isAdmin(userId: string): Promise<boolean> {
    return Promise.resolve([...this.admins].some((name) => this.login(name)?.userId === userId));
  }

  private verify(token: string | null): CallsPrincipal | null {
    if (!token || token.length > 2048) return null;
    const [body, signature] = token.split('.');
    if (!body || !signature) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.exp !== 'number' ||
        payload.exp < Date.now()
      )
        return null;
      return { userId: payload.sub, displayName: payload.name, isAdmin: payload.admin === true };
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

function bearer(headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
  const value = headers.authorization;
  const header = Array.isArray(value) ? value[0] : value;
  const match = header?.match(/^Bearer (\S+)$/);
  return match ? match[1] : null;
}
