import { MessageTooLargeError } from '../errors';

/**
 * The one SDP size rule: a session description, or anything carrying one (compressed bytes, JSON
 * text), larger than `maxBytes` (the `maxSdpBytes` option) is refused before it is parsed, with
 * `MessageTooLargeError` on field `sdp` (`message_too_large` on the wire).
 */
export function sdpTooLarge(maxBytes: number): MessageTooLargeError {
  return new MessageTooLargeError('sdp', maxBytes);
}

/**
 * Applies the SDP size rule ({@link sdpTooLarge}) to a length in bytes.
 * @throws MessageTooLargeError when `byteLength` is over `maxBytes`
 */
export function checkSdpSize(byteLength: number, maxBytes: number): void {
  if (byteLength > maxBytes) throw sdpTooLarge(maxBytes);
}
