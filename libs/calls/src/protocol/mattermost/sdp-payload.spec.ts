import { deflateSync } from 'node:zlib';
import { InvalidMessageError } from '../../errors/invalid-message.error';
import { MessageTooLargeError } from '../../errors/message-too-large.error';
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

  it('refuses SDP larger than the limit, compressed or not, without inflating it all', () => {
    const big = JSON.stringify({ type: 'offer', sdp: `v=0\r\n${'a=x\r\n'.repeat(20000)}` });
    expect(() => decodeSessionDescription(big, 65536)).toThrow(MessageTooLargeError);
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(65536);
    expect(() => decodeSessionDescription(bomb, 65536)).toThrow(MessageTooLargeError);
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
