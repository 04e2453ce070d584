import { SignalRequest } from '@livekit/protocol';
import { invalidUtf8, longString, type Rng } from './fuzz';

/** The server's limit of a signal frame (`MAX_SIGNAL_FRAME_BYTES`). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** The WebSocket's own limit: larger messages are refused by `ws` before the server sees them. */
const MAX_WS_PAYLOAD = 1024 * 1024;

/**
 * What a frame must get: the connection closed with `close` and a reason (`reason`: false when
 * the WebSocket layer closes it, which gives none), or (`open`) it stays open (the frame is a
 * request; `leave`: one that ends the session, closed normally).
 */
export type FrameExpectation =
  { readonly close: number; readonly reason: boolean } | 'open' | 'leave';

/** One hostile WebSocket frame. */
export interface HostileFrame {
  readonly data: Buffer;
  readonly binary: boolean;
  readonly expect: FrameExpectation;
  readonly kind: string;
}

/** What the server must do with a frame, from what it is (decoded here as the server would). */
export function frameExpectation(data: Buffer, binary: boolean): FrameExpectation {
  if (data.byteLength > MAX_WS_PAYLOAD) return { close: 1009, reason: false };
  if (data.byteLength > MAX_FRAME_BYTES) return { close: 1009, reason: true };
  // Text frames, UTF-8 or not.
  if (!binary) return { close: 1003, reason: true };
  try {
    return SignalRequest.fromBinary(data).message.case === 'leave' ? 'leave' : 'open';
  } catch {
    return { close: 1007, reason: true };
  }
}

/** A copy of `bytes` with `n` random bits flipped. */
function flipBits(rng: Rng, bytes: Uint8Array, n: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}

/**
 * A hostile frame: random bytes, a valid request truncated, bit-flipped or with bytes appended,
 * protobuf-looking varint and length garbage, text frames (JSON, not UTF-8, huge), oversized
 * binary frames (over the server's 64 KiB, over the WebSocket's 1 MiB) and the empty frame.
 * `valid` gives an encoded valid request to damage.
 */
export function hostileFrame(rng: Rng, valid: () => Uint8Array): HostileFrame {
  const make = (data: Buffer, binary: boolean, kind: string): HostileFrame => ({
    data,
    binary,
    kind,
    expect: frameExpectation(data, binary),
  });
  switch (rng.int(11)) {
    case 0:
      return make(rng.bytes(1 + rng.int(rng.pick([8, 256, 4096]))), true, 'random');
    case 1: {
      const bytes = valid();
      return make(Buffer.from(bytes.subarray(0, rng.int(bytes.length))), true, 'truncated');
    }
    case 2:
    case 3: {
      const bytes = valid();
      return make(flipBits(rng, bytes, 1 + rng.int(4)), true, 'bit-flipped');
    }
    case 4:
      return make(Buffer.concat([valid(), rng.bytes(1 + rng.int(16))]), true, 'trailing');
    case 5:
      // A field tag, then a length far past the end, or a varint that never ends.
      return make(
        Buffer.from(
          rng.pick([
            [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
            [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            [0x72, 0x80],
            [0x7a, 0x05, 0x01],
            [0x0f],
            [0x0a, 0x02, 0x0a],
          ]),
        ),
        true,
        'varint',
      );
    case 6:
      return make(
        Buffer.from(rng.pick(['{"ping": 1}', '', 'ping', longString(rng, 100)])),
        false,
        'text',
      );
    case 7:
      return make(invalidUtf8(rng), false, 'text-not-utf8');
    case 8:
      return make(
        Buffer.alloc(rng.pick([MAX_FRAME_BYTES + 1, 200_000, MAX_WS_PAYLOAD + 1]), 0x0a),
        true,
        'oversized',
      );
    case 9:
      return make(Buffer.alloc(MAX_FRAME_BYTES + 10, 0x20), false, 'text-oversized');
    default:
      return make(Buffer.alloc(0), true, 'empty');
  }
}
