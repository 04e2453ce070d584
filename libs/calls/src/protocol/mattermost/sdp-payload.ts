import { inflateSync } from 'node:zlib';
import { InvalidMessageError } from '../../errors';
import { checkSdpSize, sdpTooLarge } from '../../media/sdp-size';

/** A session description from a client. */
export interface ClientSessionDescription {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

function toBytes(data: unknown): Buffer | null {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const numbers = (v: unknown): v is number[] =>
    Array.isArray(v) &&
    v.every((n) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 255);
  if (numbers(data)) return Buffer.from(data);
  // Node's Buffer.toJSON form, as some clients send it.
  if (typeof data === 'object' && data !== null) {
    const o = data as { type?: unknown; data?: unknown };
    if (o.type === 'Buffer' && numbers(o.data)) return Buffer.from(o.data);
  }
  return null;
}

/**
 * Decodes the `sdp` action's payload in every form clients send: zlib-compressed JSON bytes
 * (Mattermost's), plain JSON bytes, JSON text, or the description object itself. This is where the
 * SDP size rule ({@link checkSdpSize}, `maxBytes` = the `maxSdpBytes` option) is enforced, on
 * every form before it is parsed: the bytes as received, the text after decompression (which
 * stops at the limit: no zip bombs), and the description itself.
 * @throws MessageTooLargeError, InvalidMessageError
 */
export function decodeSessionDescription(
  data: unknown,
  maxBytes: number,
): ClientSessionDescription {
  let text: string | null = null;
  let parsed: unknown = data;
  const bytes = toBytes(data);
  if (bytes) {
    checkSdpSize(bytes.length, maxBytes);
    if (bytes[0] === 0x78) {
      try {
        text = inflateSync(bytes, { maxOutputLength: maxBytes }).toString('utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw sdpTooLarge(maxBytes);
        throw new InvalidMessageError('sdp', 'compressed data is corrupt');
      }
    } else {
      text = bytes.toString('utf8');
    }
  } else if (typeof data === 'string') {
    text = data;
  }
  if (text !== null) {
    checkSdpSize(Buffer.byteLength(text), maxBytes);
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidMessageError('sdp', 'is not JSON of a session description');
    }
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new InvalidMessageError('sdp', 'is not a session description');
  }
  const { type, sdp } = parsed as { type?: unknown; sdp?: unknown };
  if (type !== 'offer' && type !== 'answer') {
    throw new InvalidMessageError('sdp.type', 'must be "offer" or "answer"');
  }
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) {
    throw new InvalidMessageError('sdp.sdp', 'must be SDP text starting with v=0');
  }
  checkSdpSize(Buffer.byteLength(sdp), maxBytes);
  return { type, sdp };
}
