import { InvalidMessageError } from '../../errors';
import { MAX_ICE_CANDIDATE_LENGTH, validateIceCandidate } from '../../media/ice-candidate.grammar';
import type { MediaIceCandidate } from '../../media/media-plane.interface';

/** The fields a client may send next to a raw candidate line. */
export interface IceCandidateInput {
  readonly candidate: unknown;
  readonly sdpMid?: unknown;
  readonly sdpMLineIndex?: unknown;
  readonly usernameFragment?: unknown;
}

/**
 * Parses a client ICE candidate in any of the forms Mattermost clients send:
 * - the JSON string of a browser `RTCIceCandidate` (Mattermost's `ice` action; its fields win),
 * - a raw `candidate:…` line (optionally `a=`-prefixed) with `sdpMid`/`sdpMLineIndex` given beside it,
 * - an object with those fields (`sdp_mid`/`sdp_mline_index` accepted too).
 * The candidate itself is checked by the one grammar ({@link validateIceCandidate}). An empty
 * candidate (end of candidates) gives null and is ignored, as Mattermost does.
 * @throws InvalidMessageError for anything else
 */
export function parseIceCandidate(input: IceCandidateInput): MediaIceCandidate | null {
  let fields: IceCandidateInput = input;
  if (typeof input.candidate === 'string' && input.candidate.trim().startsWith('{')) {
    if (input.candidate.length > 4 * MAX_ICE_CANDIDATE_LENGTH) {
      throw new InvalidMessageError('candidate', 'is too long');
    }
    try {
      fields = JSON.parse(input.candidate) as IceCandidateInput;
    } catch {
      throw new InvalidMessageError('candidate', 'is not valid JSON');
    }
    if (typeof fields !== 'object' || fields === null) {
      throw new InvalidMessageError('candidate', 'JSON is not an object');
    }
  }
  const valid = validateIceCandidate({
    candidate: fields.candidate,
    sdpMid: fields.sdpMid ?? (fields as { sdp_mid?: unknown }).sdp_mid,
    sdpMLineIndex:
      fields.sdpMLineIndex ?? (fields as { sdp_mline_index?: unknown }).sdp_mline_index,
    usernameFragment: fields.usernameFragment,
  });
  if (!valid) return null;
  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = valid;
  return { candidate, sdpMid, sdpMLineIndex, usernameFragment };
}
