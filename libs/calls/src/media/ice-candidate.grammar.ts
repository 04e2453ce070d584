import { InvalidMessageError } from '../errors';
import type { MediaIceCandidate } from './media-plane.interface';

/** The longest candidate line accepted, in characters (after trimming and the `a=` prefix). */
export const MAX_ICE_CANDIDATE_LENGTH = 1024;

/** The longest `sdpMid` and `usernameFragment` accepted. */
const MAX_FIELD_LENGTH = 64;

/**
 * RFC 8839 §5.1, as browsers send it:
 * `candidate:<foundation> <component> <udp|tcp> <priority> <address> <port> typ <type>`
 * followed by `<name> <value>` extension pairs (`raddr`, `rport`, `tcptype`, `generation`, …).
 * The address is an IP address or a hostname (mDNS `<uuid>.local`).
 */
const CANDIDATE_LINE =
  /^candidate:([A-Za-z0-9+/]{1,32}) (\d{1,3}) (udp|tcp|UDP|TCP) (\d{1,10}) ([0-9A-Za-z.:%_-]{1,253}) (\d{1,5}) typ (host|srflx|prflx|relay)(?: [\x21-\x7e]+ [\x21-\x7e]+)*$/;

/** The fields of a valid `candidate:` line. */
export interface IceCandidateLine {
  readonly foundation: string;
  readonly component: number;
  readonly protocol: 'udp' | 'tcp';
  readonly priority: number;
  readonly address: string;
  readonly port: number;
  readonly type: 'host' | 'srflx' | 'prflx' | 'relay';
}

/** A candidate that passed the grammar: the normalised line, its fields, and the fields beside it. */
export interface ValidIceCandidate extends MediaIceCandidate {
  /** The line without surrounding white space and without an `a=` prefix. */
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly usernameFragment: string | null;
  readonly line: IceCandidateLine;
}

/** A candidate as any transport hands it over, before validation. */
export interface IceCandidateFields {
  readonly candidate: unknown;
  readonly sdpMid?: unknown;
  readonly sdpMLineIndex?: unknown;
  readonly usernameFragment?: unknown;
}

function optionalString(field: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_FIELD_LENGTH) {
    throw new InvalidMessageError(field, 'must be a short string');
  }
  return v;
}

function optionalIndex(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new InvalidMessageError('sdpMLineIndex', 'must be an integer from 0 to 65535');
  }
  return v;
}

/** The fields of a `candidate:` line already trimmed and without `a=`. */
function parseLine(line: string): IceCandidateLine {
  if (line.length > MAX_ICE_CANDIDATE_LENGTH) {
    throw new InvalidMessageError('candidate', 'is too long');
  }
  const m = CANDIDATE_LINE.exec(line);
  if (!m) throw new InvalidMessageError('candidate', 'is not an ICE candidate line');
  const [, foundation, component, protocol, priority, address, port, type] = m;
  const parsed: IceCandidateLine = {
    foundation,
    component: Number(component),
    protocol: protocol.toLowerCase() as IceCandidateLine['protocol'],
    priority: Number(priority),
    address,
    port: Number(port),
    type: type as IceCandidateLine['type'],
  };
  if (
    parsed.component < 1 ||
    parsed.component > 256 ||
    parsed.priority > 0xffffffff ||
    parsed.port > 65535
  ) {
    throw new InvalidMessageError('candidate', 'has a component, priority or port out of range');
  }
  return parsed;
}

/**
 * The one ICE candidate grammar: validates a client candidate (optionally `a=`-prefixed, white
 * space around it ignored) and the fields sent beside it (`sdpMid`, `sdpMLineIndex`,
 * `usernameFragment`). The protocol adapters and the SFU both go through it. Returns `null` for
 * the empty end-of-candidates marker (its other fields are not looked at).
 * @throws InvalidMessageError naming the first bad field
 */
export function validateIceCandidate(input: IceCandidateFields): ValidIceCandidate | null {
  if (typeof input.candidate !== 'string') {
    throw new InvalidMessageError('candidate', 'must be a string');
  }
  let candidate = input.candidate.trim();
  if (candidate.startsWith('a=')) candidate = candidate.slice(2);
  if (candidate === '') return null;
  const line = parseLine(candidate);
  const sdpMid = optionalString('sdpMid', input.sdpMid);
  const sdpMLineIndex = optionalIndex(input.sdpMLineIndex);
  const usernameFragment = optionalString('usernameFragment', input.usernameFragment);
  return { candidate, sdpMid, sdpMLineIndex, usernameFragment, line };
}
