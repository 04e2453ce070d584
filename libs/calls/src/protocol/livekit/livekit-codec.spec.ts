import { SignalRequest, SignalResponse, Ping } from '@livekit/protocol';
import {
  decodeSignalRequest,
  encodeSignalResponse,
  LiveKitFrameError,
  MAX_SIGNAL_FRAME_BYTES,
} from './livekit-codec';

describe('LiveKit frame codec', () => {
  it('decodes a binary SignalRequest', () => {
    const frame = new SignalRequest({
      message: { case: 'pingReq', value: new Ping({ timestamp: 7n }) },
    }).toBinary();
    const request = decodeSignalRequest(frame, true);
    expect(request.message.case).toBe('pingReq');
    expect(request.message.value).toMatchObject({ timestamp: 7n });
  });

  it('refuses oversized, text and malformed frames with their problem', () => {
    const problem = (frame: Uint8Array, binary = true, max?: number) => {
      try {
        decodeSignalRequest(frame, binary, max);
        return 'none';
      } catch (err) {
        return err instanceof LiveKitFrameError ? err.problem : 'other';
      }
    };
    expect(problem(new Uint8Array(MAX_SIGNAL_FRAME_BYTES + 1))).toBe('oversized');
    expect(problem(new Uint8Array(10), true, 5)).toBe('oversized');
    expect(problem(Buffer.from('{"ping":1}'), false)).toBe('text');
    expect(problem(Uint8Array.from([0x0a, 0xff, 0x01]))).toBe('malformed');
  });

  it('decodes an unknown request kind (a newer client) to no case, to be ignored', () => {
    // Field 99, varint 1: not a SignalRequest field of this version.
    const request = decodeSignalRequest(Uint8Array.from([0x98, 0x06, 0x01]), true);
    expect(request.message.case).toBeUndefined();
  });

  it('encodes a SignalResponse the client decodes', () => {
    const frame = encodeSignalResponse({ case: 'pong', value: 42n });
    expect(SignalResponse.fromBinary(frame).message).toEqual({ case: 'pong', value: 42n });
  });
});
