import { SignalRequest, SignalResponse } from '@livekit/protocol';

/** Largest signal frame accepted (a publisher offer with simulcast is a few KiB). */
export const MAX_SIGNAL_FRAME_BYTES = 64 * 1024;

/** Why a frame was refused. */
export type FrameProblem = 'oversized' | 'malformed' | 'text';

/** A frame that is not a `SignalRequest` this server accepts; the connection is closed. */
export class LiveKitFrameError extends Error {
  constructor(
    readonly problem: FrameProblem,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Decodes a client frame (binary protobuf `SignalRequest`). A request of a kind this version of
 * the protocol does not know decodes with no `message.case`; the caller ignores it.
 * @throws LiveKitFrameError when the frame is too large, text (LiveKit's JSON mode, not served) or
 *   not protobuf
 */
export function decodeSignalRequest(
  frame: Uint8Array,
  isBinary: boolean,
  maxBytes = MAX_SIGNAL_FRAME_BYTES,
): SignalRequest {
  if (frame.byteLength > maxBytes) {
    throw new LiveKitFrameError('oversized', `frame of ${frame.byteLength} bytes over ${maxBytes}`);
  }
  if (!isBinary) throw new LiveKitFrameError('text', 'text frames are not supported');
  try {
    return SignalRequest.fromBinary(frame);
  } catch (err) {
    throw new LiveKitFrameError('malformed', `not a SignalRequest: ${(err as Error).message}`);
  }
}

/** One server message. */
export type SignalMessage = SignalResponse['message'];

/** Encodes a server message as a binary protobuf `SignalResponse` frame. */
export function encodeSignalResponse(message: SignalMessage): Uint8Array {
  return new SignalResponse({ message }).toBinary();
}
