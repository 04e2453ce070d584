import type { types as ms } from 'mediasoup';
import { type IceCandidateLine, validateIceCandidate } from '../../media/ice-candidate.grammar';
import type { MediaIceCandidate } from '../../media/media-plane.interface';

/** A client candidate after validation. */
export interface ParsedIceCandidate extends IceCandidateLine {
  readonly sdpMid?: string;
  readonly sdpMLineIndex?: number;
  readonly usernameFragment?: string;
}

/**
 * Validates a candidate as a browser sends it, with the one ICE candidate grammar
 * ({@link validateIceCandidate}). Returns `null` for the empty end-of-candidates marker.
 * @throws InvalidMessageError when the candidate or a field beside it is malformed
 */
export function parseClientIceCandidate(input: MediaIceCandidate): ParsedIceCandidate | null {
  const valid = validateIceCandidate(input);
  if (!valid) return null;
  return {
    ...valid.line,
    sdpMid: valid.sdpMid ?? undefined,
    sdpMLineIndex: valid.sdpMLineIndex ?? undefined,
    usernameFragment: valid.usernameFragment ?? undefined,
  };
}

/** The `candidate:` line of one of the server's (mediasoup host) candidates. */
export function formatServerCandidate(c: ms.IceCandidate): string {
  const tcp = c.tcpType ? ` tcptype ${c.tcpType}` : '';
  return `candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}${tcp}`;
}
