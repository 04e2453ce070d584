/**
 * Deterministic fuzzing primitives for the hostile-input tests: a seeded random source, garbage
 * values of every JSON/binary shape socket.io can carry, and mutators for SDP and ICE candidates.
 * Every generated value stays below socket.io's 256 KiB message limit unless asked otherwise.
 */

/**
 * The seed of a fuzzing suite: `fallback` by default (a fixed, reproducible corpus);
 * `FUZZ_SEED=<n>` replays one, `FUZZ_SEED=random` explores.
 */
export function fuzzSeed(fallback: number): number {
  const env = process.env.FUZZ_SEED;
  if (env === 'random') return Math.floor(Math.random() * 2 ** 32);
  return env === undefined ? fallback : Number(env);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same corpus. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let x = this.next() * total;
    for (const [w, v] of items) {
      if ((x -= w) < 0) return v;
    }
    return items[items.length - 1][1];
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A string of `n` characters from `alphabet`. */
  string(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** Byte sequences that are not valid UTF-8 (lone continuation, overlong, surrogate, truncated). */
const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc3, 0x28],
  [0xa0, 0xa1],
  [0xe2, 0x28, 0xa1],
  [0xe2, 0x82, 0x28],
  [0xf0, 0x28, 0x8c, 0xbc],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf0, 0x90, 0x80],
];

/** A Buffer of text with invalid UTF-8 bytes spliced in. */
export function invalidUtf8(rng: Rng, text = 'custom_com.mattermost.calls'): Buffer {
  const parts: Buffer[] = [];
  for (const ch of text) {
    parts.push(Buffer.from(ch));
    if (rng.chance(0.2)) parts.push(Buffer.from(rng.pick(BAD_UTF8)));
  }
  parts.push(Buffer.from(rng.pick(BAD_UTF8)));
  return Buffer.concat(parts);
}

/** Strings that break naive handling: control characters, lone surrogates, RTL, emoji, keys. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF\uD800',
  '\u202Eevil',
  '\uFEFF',
  '💥🔥'.repeat(20),
  'ｆｕｌｌｗｉｄｔｈ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '${jndi:ldap://x}',
  "'; DROP TABLE calls; --",
  '<script>alert(1)</script>',
  '\r\n\r\n',
  'null',
  'undefined',
  'NaN',
  '{"a":',
  '[[[[[[[[',
  '\\',
  '"',
];

/** A string of about `n` bytes on the wire (JSON-escaped UTF-8): ASCII, multi-byte or nasty. */
export function longString(rng: Rng, n: number): string {
  const unit = rng.pick([
    'A',
    'é',
    '💥',
    '\u0000',
    '\uD800',
    'x"\\',
    rng.pick(NASTY_STRINGS) || 'z',
  ]);
  const unitBytes = Math.max(1, Buffer.byteLength(JSON.stringify(unit)) - 2);
  return unit.repeat(Math.max(1, Math.floor(n / unitBytes)));
}

/** Approximate size of emitted arguments on the wire (real Buffers travel as binary attachments). */
export function wireBytes(args: readonly unknown[]): number {
  let binary = 0;
  const text = JSON.stringify(args, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    if (Buffer.isBuffer(original) || original instanceof Uint8Array) {
      binary += original.length;
      return 0;
    }
    return value;
  });
  return Buffer.byteLength(text ?? '') + binary;
}

/** A scalar of any JSON type or a Buffer; never a valid action payload by itself. */
export function garbageScalar(rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0:
      return rng.pick([0, -1, 1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, NaN, Infinity]);
    case 1:
      return rng.chance(0.5);
    case 2:
      return null;
    case 3:
      return rng.pick(NASTY_STRINGS);
    case 4:
      return longString(rng, rng.pick([300, 5000, 70_000, 150_000]));
    case 5:
      return invalidUtf8(rng);
    case 6:
      return rng.bytes(rng.pick([0, 1, 16, 1024, 60_000]));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return rng.string(rng.int(40) + 1);
    case 10:
      return Buffer.from([0x78, 0x9c, ...rng.bytes(rng.int(64))]); // a zlib header, then noise
    default:
      return rng.int(2 ** 31);
  }
}

/** A nested value: objects with odd keys, arrays, deep nesting, scalars. */
export function garbageValue(rng: Rng, depth = 0): unknown {
  if (depth > 3 || rng.chance(0.45)) return garbageScalar(rng);
  switch (rng.int(4)) {
    case 0:
      return Array.from({ length: rng.int(5) }, () => garbageValue(rng, depth + 1));
    case 1: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) {
        // defineProperty: a `__proto__` key must be an own property, as JSON.parse makes it.
        Object.defineProperty(
          o,
          rng.chance(0.3) ? rng.pick(NASTY_STRINGS) : rng.string(rng.int(12) + 1),
          { value: garbageValue(rng, depth + 1), enumerable: true, writable: true },
        );
      }
      return o;
    }
    case 2: {
      let v: unknown = rng.pick(NASTY_STRINGS);
      // Nesting that the client can still encode (deeper: see deepJson).
      for (let i = 100 + rng.int(300); i > 0; i--) v = rng.chance(0.5) ? [v] : { a: v };
      return v;
    }
    default:
      return JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"toString":1}',
      ) as unknown;
  }
}

/**
 * JSON text nesting arrays/objects `depth` levels deep, built without recursion (deeper than
 * socket.io-client or JSON.stringify could encode: send it as a raw packet).
 */
export function deepJson(rng: Rng, depth: number): string {
  const open: string[] = [];
  for (let i = 0; i < depth; i++) open.push(rng.chance(0.5) ? '[' : '{"a":');
  const close = open.map((o) => (o === '[' ? ']' : '}')).reverse();
  return `${open.join('')}1${close.join('')}`;
}

/** Garbage string of a few kinds (used where a field must be a string but not a valid one). */
export function garbageString(rng: Rng): string {
  return rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : longString(rng, rng.pick([129, 300, 5000]));
}

const CRLF = '\r\n';

/** Splits an SDP into lines (without line endings). */
function sdpLines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l !== '');
}

/** Start indices of the m= sections. */
function sectionStarts(lines: string[]): number[] {
  return lines.flatMap((l, i) => (l.startsWith('m=') ? [i] : []));
}

type LineMutation = (rng: Rng, lines: string[]) => string[];

const garbleValue = (rng: Rng): string =>
  rng.pick([
    '',
    rng.string(1),
    rng.string(300),
    'ZZ:'.repeat(40),
    '-1',
    '99999999999999999999',
    rng.pick(NASTY_STRINGS),
    'x'.repeat(4000),
  ]);

/** Replaces the value of every line starting with `prefix`. */
const garble =
  (prefix: string): LineMutation =>
  (rng, lines) =>
    lines.map((l) => (l.startsWith(prefix) ? `${prefix}${garbleValue(rng)}` : l));

const drop =
  (prefix: string): LineMutation =>
  (_rng, lines) =>
    lines.filter((l) => !l.startsWith(prefix));

const duplicate =
  (prefix: string): LineMutation =>
  (_rng, lines) =>
    lines.flatMap((l) => (l.startsWith(prefix) ? [l, l] : [l]));

/** SDP line mutations: the parts an SFU trusts (fingerprints, ICE credentials, m-lines, codecs). */
const SDP_MUTATIONS: readonly LineMutation[] = [
  drop('a=fingerprint'),
  duplicate('a=fingerprint'),
  garble('a=fingerprint:'),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('a=fingerprint:')
        ? `a=fingerprint:${rng.pick(['sha-999', 'md5', 'SHA-256', ''])} ${rng.bytes(rng.pick([4, 32, 64])).toString('hex')}`
        : l,
    ),
  drop('a=ice-ufrag'),
  drop('a=ice-pwd'),
  duplicate('a=ice-ufrag'),
  garble('a=ice-ufrag:'),
  garble('a=ice-pwd:'),
  drop('m='),
  duplicate('m='),
  garble('m='),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('m=')
        ? `${l.split(' ').slice(0, 3).join(' ')} ${Array.from({ length: rng.pick([0, 1, 300]) }, () => rng.pick([0, 96, 127, 128, 255, 999999, -1])).join(' ')}`
        : l,
    ),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('m=')
        ? `m=${rng.pick(['audio', 'video', 'application', 'text', ''])} ${rng.pick(['9', '-1', '70000', 'x'])} ${rng.pick(['UDP/TLS/RTP/SAVPF', 'RTP/AVP', 'FOO', 'UDP/DTLS/SCTP'])} 111`
        : l,
    ),
  drop('a=rtpmap'),
  garble('a=rtpmap:'),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('a=rtpmap:')
        ? `a=rtpmap:${rng.pick(['111', '0', '128', '-5', 'x'])} ${rng.pick(['opus/0/0', 'opus/abc', 'VP8', `${'X'.repeat(2000)}/90000`, 'opus/48000/99'])}`
        : l,
    ),
  garble('a=fmtp:'),
  duplicate('a=rtpmap'),
  drop('a=mid'),
  garble('a=mid:'),
  (_rng, lines) => lines.map((l) => (l.startsWith('a=mid:') ? 'a=mid:0' : l)),
  garble('a=group:BUNDLE'),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('a=group:BUNDLE') ? `a=group:BUNDLE ${rng.string(3)} 7 99 x` : l,
    ),
  garble('a=setup:'),
  garble('a=extmap:'),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('a=extmap:')
        ? `a=extmap:${rng.pick(['0', '15', '256', '99999', '-1'])} urn:${'x'.repeat(rng.pick([5, 3000]))}`
        : l,
    ),
  garble('a=ssrc:'),
  garble('a=msid:'),
  garble('c='),
  garble('o='),
  drop('a=rtcp-mux'),
  (rng, lines) =>
    lines.map((l) =>
      l.startsWith('a=sendrecv') || l.startsWith('a=sendonly')
        ? rng.pick(['a=inactive', 'a=recvonly', 'a=sendrecv', 'a=bogus'])
        : l,
    ),
  // m-section level: drop one, duplicate one with a new mid, multiply one.
  (rng, lines) => {
    const starts = sectionStarts(lines);
    if (starts.length === 0) return lines;
    const i = rng.int(starts.length);
    const end = starts[i + 1] ?? lines.length;
    return [...lines.slice(0, starts[i]), ...lines.slice(end)];
  },
  (rng, lines) => {
    const starts = sectionStarts(lines);
    if (starts.length === 0) return lines;
    const i = rng.int(starts.length);
    const section = lines.slice(starts[i], starts[i + 1] ?? lines.length);
    const copies = rng.pick([1, 5, 40]);
    const extra = Array.from({ length: copies }, (_, k) =>
      section.map((l) => (l.startsWith('a=mid:') ? `a=mid:fz${k}` : l)),
    ).flat();
    return [...lines, ...extra];
  },
  // Huge attributes: below the 64 KiB limit (parsed) and above it (refused by size).
  (rng, lines) => [...lines, `a=x-fuzz:${'A'.repeat(rng.pick([1000, 30_000, 70_000]))}`],
  (rng, lines) => [
    ...lines,
    ...Array.from({ length: 500 }, (_, k) => `a=x-${k}:${rng.string(20)}`),
  ],
  // Line level: shuffle, random line dropped, nonsense lines.
  (rng, lines) => {
    const out = [...lines];
    for (let i = 0; i < 5; i++) {
      const a = rng.int(out.length);
      const b = rng.int(out.length);
      [out[a], out[b]] = [out[b], out[a]];
    }
    return out;
  },
  (rng, lines) => lines.filter(() => !rng.chance(0.1)),
  (rng, lines) => [...lines.slice(0, 3), garbleValue(rng), ...lines.slice(3)],
];

/** Byte-level SDP damage (after the line mutations). */
function damageText(rng: Rng, sdp: string): string {
  switch (rng.int(8)) {
    case 0:
      return sdp.slice(0, rng.int(sdp.length));
    case 1:
      return sdp.replace(/\r\n/g, '\n');
    case 2:
      return sdp.replace(/\r\n/g, '\r');
    case 3: {
      const chars = [...sdp];
      for (let i = 0; i < 10; i++)
        chars[rng.int(chars.length)] = rng.pick(['\u0000', '\uD800', 'é', ' ', '\t']);
      return chars.join('');
    }
    case 4:
      return sdp.replace(/^v=0/, rng.pick(['v=1', 'v=', '', 'x=0']));
    default:
      return sdp;
  }
}

/** A mutated copy of a real SDP: one to three line mutations, sometimes byte-level damage. */
export function mutateSdp(rng: Rng, sdp: string): string {
  let lines = sdpLines(sdp);
  for (let n = 1 + rng.int(3); n > 0; n--) lines = rng.pick(SDP_MUTATIONS)(rng, lines);
  const text = lines.join(CRLF) + CRLF;
  return rng.chance(0.3) ? damageText(rng, text) : text;
}

/** A mutated copy of a real `candidate:` line. */
export function mutateCandidateLine(rng: Rng, line: string): string {
  const parts = line.split(' ');
  const field = rng.int(Math.max(parts.length, 8) + 4);
  const bad = rng.pick([
    '',
    '-1',
    '0',
    '65536',
    '99999999999',
    'x',
    'sctp',
    'UDP ',
    '999.1.1.1',
    '::ffff:zz',
    'a'.repeat(300),
    'localhost',
    '0.0.0.0',
    '[::1]',
    rng.pick(NASTY_STRINGS),
  ]);
  if (field < parts.length) parts[field] = bad;
  else if (field === parts.length) return `a=${line}`;
  else if (field === parts.length + 1) return `${line}\r\n`;
  else if (field === parts.length + 2) return line.replace('typ host', 'typ bogus');
  else return `${line} ${'x'.repeat(rng.pick([10, 900, 3000]))} y`;
  return parts.join(' ');
}
