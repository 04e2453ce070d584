import { createHmac } from 'node:crypto';
import { NASTY_STRINGS, type Rng } from './fuzz';

/** The key a test host accepts LiveKit tokens of. */
export interface TestLiveKitKey {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** A JWT signed by hand (HMAC), for tokens the SDK would not mint. */
export function handSignedJwt(
  header: object,
  payload: object,
  secret: string,
  alg: 'sha256' | 'sha512' = 'sha256',
): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(alg, secret).update(body).digest('base64url')}`;
}

/** A copy of `text` with one character of part `part` (0 header, 1 payload, 2 signature) changed. */
function damagePart(rng: Rng, jwt: string, part: number): string {
  const parts = jwt.split('.');
  const p = parts[part] ?? '';
  const at = rng.int(Math.max(1, p.length));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const replacement = alphabet[(alphabet.indexOf(p[at] ?? 'A') + 1 + rng.int(62)) % 64];
  parts[part] = `${p.slice(0, at)}${replacement}${p.slice(at + 1)}`;
  return parts.join('.');
}

/**
 * A token that must not let anyone in: a valid one damaged (each part, truncated, re-encoded),
 * one signed with another secret or algorithm (`none`, HS512, RS256 claimed), expired or not yet
 * valid, claims of the wrong shape (room, identity, grants), a valid signature over another
 * token's payload, and plain garbage. `valid` is a token that would be admitted, `claims` its
 * payload.
 */
export function hostileToken(
  rng: Rng,
  key: TestLiveKitKey,
  valid: string,
  claims: Record<string, unknown>,
): { token: string; kind: string } {
  const now = Math.floor(Date.now() / 1000);
  const signed = (payload: object, header: object = { alg: 'HS256', typ: 'JWT' }) =>
    handSignedJwt(header, payload, key.apiSecret);
  const video = claims.video as Record<string, unknown>;
  const [header, payload] = valid.split('.');
  switch (rng.int(14)) {
    case 0:
      return { token: damagePart(rng, valid, 2), kind: 'signature-changed' };
    case 1:
      return { token: damagePart(rng, valid, 1), kind: 'payload-changed' };
    case 2:
      return { token: damagePart(rng, valid, 0), kind: 'header-changed' };
    case 3:
      return { token: valid.slice(0, rng.int(valid.length)), kind: 'truncated' };
    case 4:
      return {
        token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`,
        kind: 'alg-none',
      };
    case 5:
      return {
        token: handSignedJwt(
          { alg: rng.pick(['HS512', 'RS256', 'hs256', '']) },
          claims,
          key.apiSecret,
          'sha512',
        ),
        kind: 'other-alg',
      };
    case 6:
      return {
        token: handSignedJwt({ alg: 'HS256' }, claims, `${key.apiSecret}x`),
        kind: 'other-secret',
      };
    case 7:
      return {
        token: signed({ ...claims, exp: rng.pick([now - 60, now - 86_400, 0, -1]) }),
        kind: 'expired',
      };
    case 8:
      return { token: signed({ ...claims, nbf: now + 3600 }), kind: 'not-yet-valid' };
    case 9:
      return {
        token: signed({
          ...claims,
          video: {
            ...video,
            room: rng.pick([['a'], { a: 1 }, 42, null, '', 'x'.repeat(5000), 'UPPER/../x']),
          },
        }),
        kind: 'bad-room',
      };
    case 10:
      return {
        token: signed({
          ...claims,
          sub: rng.pick([
            42,
            null,
            '',
            ['u'],
            'a___b___c',
            '___',
            'u___',
            `${rng.pick(NASTY_STRINGS)}!`,
          ]),
        }),
        kind: 'bad-identity',
      };
    case 11:
      return {
        token: signed({
          ...claims,
          video: rng.pick([
            null,
            'roomJoin',
            [],
            { ...video, roomJoin: 'true' },
            { room: video.room },
          ]),
        }),
        kind: 'bad-grant',
      };
    case 12:
      // A valid signature, but over another header: the payload of one token, the signature of another.
      return {
        token: `${header}.${payload}.${signed({ ...claims, exp: now + 60 }).split('.')[2]}`,
        kind: 'swapped-signature',
      };
    default:
      return {
        token: rng.pick([
          '',
          '.',
          '..',
          'a.b.c',
          `${header}.${payload}`,
          'x'.repeat(20_000),
          '\u0000.\u0000.\u0000',
        ]),
        kind: 'garbage',
      };
  }
}
