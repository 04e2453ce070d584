import { deflateSync } from 'node:zlib';
import { InvalidMessageError, MessageTooLargeError } from '../../errors';
import { decodeSessionDescription } from './sdp-payload';

const desc = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const json = JSON.stringify(desc);

describe('decodeSessionDescription', () => {
  it.each([
    ['zlib-compressed JSON bytes (Mattermost)', deflateSync(Buffer.from(json))],
    ['compressed bytes as a Uint8Array', new Uint8Array(deflateSync(Buffer.from(json)))],
    ['plain JSON bytes', Buffer.from(json)],
    ['JSON text', json],
    ['an array of byte numbers', [...deflateSync(Buffer.from(json))]],
    ['Buffer.toJSON form', Buffer.from(json).toJSON()],
    ['the object itself', desc],
  ])('decodes %s', (_, data) => {
    expect(decodeSessionDescription(data, 65536)).toEqual(desc);
  });

  const big = (n: number) => ({ type: 'offer', sdp: `v=0\r\na=x-pad:${'a'.repeat(n)}\r\n` });

  it.each([
    ['JSON text', JSON.stringify(big(70_000))],
    ['JSON bytes', Buffer.from(JSON.stringify(big(70_000)))],
    ['zlib bytes, small compressed', deflateSync(Buffer.from(JSON.stringify(big(70_000))))],
    ['the object itself', big(70_000)],
  ])('refuses %s over the limit with message_too_large (field sdp)', (_, data) => {
    const decode = () => decodeSessionDescription(data, 65536);
    expect(decode).toThrow(MessageTooLargeError);
    expect(decode).toThrow('sdp is larger than 65536 bytes');
  });

  it('stops inflating a zip bomb at the limit', () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(65536);
    expect(() => decodeSessionDescription(bomb, 65536)).toThrow(MessageTooLargeError);
  });

  it('accepts a description of exactly the limit', () => {
    const sdp = `v=0\r\n${'a'.repeat(65536 - 5)}`;
    expect(Buffer.byteLength(sdp)).toBe(65536);
    expect(decodeSessionDescription({ type: 'offer', sdp }, 65536).sdp).toBe(sdp);
  });

  it.each([
    ['garbage bytes', Buffer.from([0x78, 0x9c, 1, 2, 3])],
    ['not JSON', 'hello'],
    ['a number', 42],
    ['a wrong type', JSON.stringify({ type: 'pranswer', sdp: 'v=0' })],
    ['a non-SDP body', JSON.stringify({ type: 'offer', sdp: 'hello' })],
    ['null', null],
  ])('rejects %s with a named error', (_, data) => {
    expect(() => decodeSessionDescription(data, 65536)).toThrow(InvalidMessageError);
  });
});
