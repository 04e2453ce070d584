import { gzipSync } from 'node:zlib';
import { garbageString, NASTY_STRINGS, type Rng } from './fuzz';
import { CALLS_PATH } from './calls-probe';

/** Whose credentials a request carries. */
export type RequestIdentity = 'none' | 'forged' | 'member' | 'host' | 'admin';

/** One hostile REST request. `read` requests may succeed (reads change nothing); the rest must fail with a 4xx. */
export interface HostileRequest {
  readonly method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  readonly path: string;
  readonly identity: RequestIdentity;
  /** A raw Authorization header (for `forged`). */
  readonly authorization?: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly body?: string | Buffer;
  readonly expect: 'error' | 'read';
  readonly kind: string;
}

interface Route {
  readonly method: 'get' | 'post';
  /** Path after the prefix; `{ch}` is replaced by a channel id. */
  readonly path: string;
  /** Body fields the route takes (none: it takes no body). */
  readonly body?: 'settings' | 'session' | 'host';
}

const ROUTES: readonly Route[] = [
  { method: 'get', path: 'config' },
  { method: 'get', path: 'turn-credentials' },
  { method: 'get', path: 'channels' },
  { method: 'get', path: 'calls/{ch}/active' },
  { method: 'post', path: 'calls/{ch}/dismiss-notification' },
  { method: 'get', path: '{ch}' },
  { method: 'post', path: '{ch}', body: 'settings' },
  { method: 'post', path: 'calls/{ch}/host/make', body: 'host' },
  { method: 'post', path: 'calls/{ch}/host/mute', body: 'session' },
  { method: 'post', path: 'calls/{ch}/host/mute-others' },
  { method: 'post', path: 'calls/{ch}/host/screen-off', body: 'session' },
  { method: 'post', path: 'calls/{ch}/host/lower-hand', body: 'session' },
  { method: 'post', path: 'calls/{ch}/host/remove', body: 'session' },
  { method: 'post', path: 'calls/{ch}/host/end' },
  { method: 'post', path: 'calls/{ch}/end' },
];

/** Percent-encodes a path segment; lone surrogates (which encodeURIComponent refuses) as raw bytes. */
function encodePath(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

/** Path segments that are not usable channel ids (malformed encodings, too long, other users' channels). */
function badId(rng: Rng): string {
  return rng.pick([
    '%ZZ',
    '%00',
    '%E0%A4%A',
    '%C0%AF',
    '%F0%9F%92%A5',
    '%20',
    '..',
    '%2e%2e',
    'a%2Fb',
    'UPPER',
    `private-${rng.string(6)}`,
    'x'.repeat(129 + rng.int(200)),
    'x'.repeat(5000),
    '__proto__',
    'a.b',
    encodePath(rng.pick(NASTY_STRINGS.filter((s) => s !== ''))),
    '%ED%A0%80%ED%A0%80', // UTF-8 of lone surrogates
  ]);
}

/** A body the route refuses (wrong types, missing fields, bad JSON, other content types). */
function badBody(
  rng: Rng,
  route: Route,
): { body?: string | Buffer; contentType?: string; contentEncoding?: string } {
  const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: 'application/json' });
  const field =
    route.body === 'settings' ? 'enabled' : route.body === 'host' ? 'new_host_id' : 'session_id';
  const wrongValue =
    route.body === 'settings'
      ? rng.pick(['true', 1, null, [], {}, 'false'])
      : rng.pick(['', 5, null, [], {}, true, 'x'.repeat(129), ['x']]);
  switch (rng.int(10)) {
    case 0:
      return json({ [field]: wrongValue });
    case 1:
      return json(rng.pick([{}, [], null, 'str', 42, { other: 'x' }]));
    case 2:
      return {
        body: rng.pick(['{bad', '{"a":', '[', 'nul', '{"a":1}}', '\u0000']),
        contentType: 'application/json',
      };
    case 3:
      // Nested past any sane depth (the validation pipes recurse).
      return {
        body: `{"${field}":${'{"a":'.repeat(4000)}1${'}'.repeat(4001)}`,
        contentType: 'application/json',
      };
    case 4:
      return {
        body: `${field}=${encodePath(garbageString(rng))}`,
        contentType: 'text/plain',
      };
    case 5:
      return {
        body: `${field}[a][b][c][d][e][f][g]=1&${field}=${rng.pick(['false', 'x', ''])}`,
        contentType: 'application/x-www-form-urlencoded',
      };
    case 6:
      return {
        body: JSON.stringify({ [field]: wrongValue }),
        contentType: 'application/json; charset=utf-16',
      };
    case 7:
      return {
        body: rng.chance(0.5) ? Buffer.from('garbage') : gzipSync(Buffer.from('{"a":')),
        contentType: 'application/json',
        contentEncoding: rng.pick(['gzip', 'deflate', 'br', 'x-bogus']),
      };
    case 8:
      return {
        body: Buffer.concat([
          Buffer.from(`{"${field}":"`),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
          Buffer.from('"}'),
        ]),
        contentType: 'application/json',
      };
    default:
      // Larger than the body parser's 100 KiB limit.
      return json({ [field]: 'x'.repeat(rng.pick([200_000, 1_500_000])) });
  }
}

/** Authorization headers that identify nobody. */
function forgedAuthorization(rng: Rng, realToken: string): string | undefined {
  return rng.pick([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer x',
    'Bearer forged.token',
    `Bearer ${realToken.slice(0, -1)}${realToken.endsWith('A') ? 'B' : 'A'}`,
    `Bearer ${realToken.split('.')[0]}.`,
    `Bearer .${realToken.split('.')[1]}`,
    `Bearer ${Buffer.from('{"sub":"u-admin","name":"Admin","admin":true,"exp":9999999999999}').toString('base64url')}.${realToken.split('.')[1]}`,
    `Bearer ${'a'.repeat(3000)}.${'b'.repeat(100)}`,
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `bearer ${realToken}`,
    `Bearer ${realToken} extra`,
  ]);
}

/**
 * One hostile request against the calls REST API. `channel` has a call whose host is `host`;
 * requests that could change it when valid are only generated in forms that must fail.
 */
export function hostileRequest(rng: Rng, channel: string, realToken: string): HostileRequest {
  const route = rng.pick(ROUTES);
  const ch = rng.chance(0.5) ? badId(rng) : channel;
  const path = `${CALLS_PATH}/${route.path.replace('{ch}', ch)}`;
  const kindOf = (what: string) => `${route.method} ${route.path} ${what}`;
  const mode = rng.int(5);
  if (mode === 0) {
    const authorization = forgedAuthorization(rng, realToken);
    return {
      method: route.method,
      path,
      identity: 'forged',
      authorization,
      expect: 'error',
      kind: kindOf('forged-token'),
    };
  }
  if (mode === 1) {
    const method = rng.pick(['put', 'delete', 'patch'] as const);
    return {
      method,
      path,
      identity: 'member',
      expect: 'error',
      kind: `${method} ${route.path} wrong-method`,
    };
  }
  if (route.body && mode <= 3) {
    // Only the host or an admin gets past the permission check: test their bodies.
    const identity = route.body === 'settings' ? 'admin' : rng.pick(['host', 'member'] as const);
    return {
      method: route.method,
      path,
      identity,
      ...badBody(rng, route),
      expect: 'error',
      kind: kindOf('bad-body'),
    };
  }
  if (route.method === 'get') {
    return {
      method: 'get',
      path: `${path}?mobilev2=true&x[]=${encodePath(garbageString(rng))}&__proto__[a]=1`,
      identity: rng.pick(['member', 'admin'] as const),
      expect: 'read',
      kind: kindOf('read'),
    };
  }
  // A POST without a valid target: a bad id (any identity), or a member who has no right to it.
  const identity: RequestIdentity =
    ch === channel ? 'member' : rng.pick(['member', 'host', 'admin'] as const);
  const refused =
    ch !== channel ||
    route.path.includes('/host/') ||
    route.path.endsWith('/end') ||
    route.body !== undefined;
  if (!refused) {
    // A member's dismiss on the real channel is legitimate (and a state change): use a bad id instead.
    return {
      method: 'post',
      path: `${CALLS_PATH}/${route.path.replace('{ch}', badId(rng))}`,
      identity,
      expect: 'error',
      kind: kindOf('bad-id'),
    };
  }
  return {
    method: 'post',
    path,
    identity,
    ...(route.body ? badBody(rng, route) : {}),
    expect: 'error',
    kind: kindOf(ch === channel ? 'no-permission' : 'bad-id'),
  };
}
