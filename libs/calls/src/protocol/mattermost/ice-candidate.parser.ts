import { InvalidMessageError } from '../../errors/invalid-message.error';
import type { MediaIceCandidate } from '../../media/media-plane.interface';

const MAX_CANDIDATE_LENGTH = 1024;
/** `candidate:<foundation> <component> <udp|tcp> <priority> <address> <port> typ <type> …` */
const CANDIDATE_LINE =
  /^candidate:[A-Za-z0-9+/]{1,32} \d{1,3} (udp|tcp|UDP|TCP) \d{1,10} [0-9A-Za-z.:%_-]{1,253} \d{1,5} typ (host|srflx|prflx|relay)( [\x21-\x7e]+ [\x21-\x7e]+)*$/;

/** The fields a client may send next to a raw candidate line. */
export interface IceCandidateInput {
  readonly candidate: unknown;
  readonly sdpMid?: unknown;
  readonly sdpMLineIndex?: unknown;
  readonly usernameFragment?: unknown;
}

function optionalString(field: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > 64)
    throw new InvalidMessageError(field, 'must be a short string');
  return v;
}

function optionalIndex(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new InvalidMessageError('sdpMLineIndex', 'must be an integer from 0 to 65535');
  }
  return v;
}

/**
 * Parses a client ICE candidate in any of the forms clients send:
 * - the JSON string of a browser `RTCIceCandidate` (Mattermost's `ice` action; its fields win),
 * - a raw `candidate:…` line (optionally `a=`-prefixed) with `sdpMid`/`sdpMLineIndex` given beside it,
 * - an object with those fields.
 * An empty candidate (end of candidates) gives null and is ignored, as Mattermost does.
 * @throws InvalidMessageError for anything else
 */
export function parseIceCandidate(input: IceCandidateInput): MediaIceCandidate | null {
  let fields: IceCandidateInput = input;
  if (typeof input.candidate === 'string' && input.candidate.trim().startsWith('{')) {
    if (input.candidate.length > 4 * MAX_CANDIDATE_LENGTH) {
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
  if (typeof fields.candidate !== 'string') {
    throw new InvalidMessageError('candidate', 'must be a string');
  }
  let line = fields.candidate.trim();
  if (line.startsWith('a=')) line = line.slice(2);
  if (line === '') return null;
  if (line.length > MAX_CANDIDATE_LENGTH) throw new InvalidMessageError('candidate', 'is too long');
  if (!CANDIDATE_LINE.test(line)) {
    throw new InvalidMessageError('candidate', 'is not an ICE candidate line');
  }
  const sdpMid = optionalString(
    'sdpMid',
    fields.sdpMid ?? (fields as { sdp_mid?: unknown }).sdp_mid,
  );
  const sdpMLineIndex = optionalIndex(
    fields.sdpMLineIndex ?? (fields as { sdp_mline_index?: unknown }).sdp_mline_index,
  );
  const usernameFragment = optionalString('usernameFragment', fields.usernameFragment);
  return { candidate: line, sdpMid, sdpMLineIndex, usernameFragment };
}
