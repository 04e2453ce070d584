import { randomBytes } from 'node:crypto';
import { RtpHeader, RtpPacket } from 'werift';
import { cloneRtpPacket, parseRtpHeader } from './fast-rtp-header';

const werift = RtpHeader.deSerialize.bind(RtpHeader);

/** The result of a parse, or the fact that it threw. */
function outcome(parse: (raw: Buffer) => RtpHeader, raw: Buffer): unknown {
  try {
    const h = parse(raw);
    return { proto: Object.getPrototypeOf(h) === RtpHeader.prototype, keys: Object.keys(h), h };
  } catch {
    return 'threw';
  }
}

const packet = (...bytes: number[]) => Buffer.from(bytes);
const fixedHeader = [0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04];

describe('parseRtpHeader', () => {
  it.each([
    ['plain Opus', packet(0x80, 0x6f, ...fixedHeader, 0xaa, 0xbb)],
    ['marker', packet(0x80, 0xe0, ...fixedHeader, 0xaa)],
    ['two CSRCs', packet(0x82, 0x60, ...fixedHeader, 0, 0, 0, 1, 0, 0, 0, 2, 0xaa)],
    [
      'one-byte extensions with padding bytes',
      packet(0x90, 0x6f, ...fixedHeader, 0xbe, 0xde, 0, 2, 0x10, 0x7f, 0, 0x31, 1, 2, 3, 0, 0xaa),
    ],
    [
      'one-byte extension id 15 stops the reading',
      packet(0x90, 0x6f, ...fixedHeader, 0xbe, 0xde, 0, 2, 0x10, 0x7f, 0xf0, 0x31, 1, 2, 3, 0xaa),
    ],
    [
      'two-byte extensions',
      packet(0x90, 0x6f, ...fixedHeader, 0x10, 0x00, 0, 2, 3, 2, 9, 9, 4, 1, 7, 0, 0xaa),
    ],
    ['another profile', packet(0x90, 0x6f, ...fixedHeader, 0x12, 0x34, 0, 1, 1, 2, 3, 4, 0xaa)],
    ['padding', packet(0xa0, 0x6f, ...fixedHeader, 0xaa, 0, 0, 3)],
  ])('gives what werift gives: %s', (_name, raw) => {
    expect(outcome(parseRtpHeader, raw)).toEqual(outcome(werift, raw));
  });

  it('gives what werift gives for 5,000 random headers', () => {
    for (let i = 0; i < 5000; i++) {
      const raw = randomBytes(12 + (i % 60));
      // Padding and extension bits at random, CSRCs in one header of five.
      raw[0] = 0x80 | (raw[0] & 0x30) | (i % 5 === 0 ? raw[0] & 0x0f : 0);
      const extensionAt = 12 + 4 * (raw[0] & 0x0f);
      if (i % 3 > 0 && extensionAt + 4 <= raw.length) {
        raw.writeUInt16BE(i % 3 === 1 ? 0xbede : 0x1000, extensionAt);
        // A length that fits, or overruns by a word (werift reads a huge one in quadratic time).
        const words = Math.max(
          0,
          ((raw.length - extensionAt - 4) >> 2) - 2 + (raw[extensionAt + 3] % 4),
        );
        raw.writeUInt16BE(words, extensionAt + 2);
      }
      expect(outcome(parseRtpHeader, raw)).toEqual(outcome(werift, raw));
    }
  });
});

describe('cloneRtpPacket', () => {
  it('copies as werift copies: a new header with the same fields, the same payload', () => {
    const raw = packet(0x90, 0xe0, ...fixedHeader, 0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0, 0xaa);
    const original = RtpPacket.deSerialize(raw);
    const theirs = original.clone();
    const ours = cloneRtpPacket.call(original);
    expect(ours).toEqual(theirs);
    expect(Object.keys(ours.header)).toEqual(Object.keys(theirs.header));
    expect(Object.getPrototypeOf(ours)).toBe(RtpPacket.prototype);
    expect(Object.getPrototypeOf(ours.header)).toBe(RtpHeader.prototype);
    expect(ours.header).not.toBe(original.header);
    expect(ours.payload).toBe(original.payload);
    expect(ours.serialize()).toEqual(theirs.serialize());
  });
});
