import type { types as ms } from 'mediasoup';
import { InvalidIceCandidateError } from '../../errors/invalid-ice-candidate.error';

/** A client candidate after validation. */
export interface ParsedIceCandidate {
  readonly foundation: string;
  readonly component: number;
  readonly protocol: 'udp' | 'tcp';
  readonly priority: number;
  readonly address: string;
  readonly port: number;
  readonly type: 'host' | 'srflx' | 'prflx' | 'relay';
  readonly sdpMid?: string;
  readonly sdpMLineIndex?: number;
  readonly usernameFragment?: string;
}

const CANDIDATE =
  /^candidate:([A-Za-z0-9+/]{1,32}) (\d{1,3}) (udp|tcp) (\d{1,10}) ([A-Za-z0-9.:%_-]{1,253}) (\d{1,5}) typ (host|srflx|prflx|relay)(?: .*)?$/i;
const MAX_CANDIDATE_LENGTH = 1024;

/**
 * Validates a candidate as a browser sends it (RFC 8839 `candidate:` grammar, optionally with the
 * `a=` prefix). Returns `null` for the empty end-of-candidates marker.
 * @throws InvalidIceCandidateError when the line is malformed
 */
export function parseClientIceCandidate(input: {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}): ParsedIceCandidate | null {
  if (typeof input.candidate !== 'string') {
    throw new InvalidIceCandidateError('candidate must be a string');
  }
  const line = input.candidate.trim().replace(/^a=/, '');
  if (line === '') return null;
  if (line.length > MAX_CANDIDATE_LENGTH) {
    throw new InvalidIceCandidateError(`longer than ${MAX_CANDIDATE_LENGTH} characters`);
  }
  const m = CANDIDATE.exec(line);
  if (!m)
    throw new InvalidIceCandidateError(
      `not a candidate line: ${JSON.stringify(line.slice(0, 80))}`,
    );
  const [, foundation, component, protocol, priority, address, port, type] = m;
  const portNumber = Number(port);
  const componentNumber = Number(component);
  if (portNumber > 65535 || componentNumber < 1 || componentNumber > 256) {
    throw new InvalidIceCandidateError('port or component out of range');
  }
  if (Number(priority) > 0xffffffff) throw new InvalidIceCandidateError('priority out of range');
  const index = input.sdpMLineIndex;
  if (
    index !== undefined &&
    index !== null &&
    (!Number.isInteger(index) || index < 0 || index > 65535)
  ) {
    throw new InvalidIceCandidateError('sdpMLineIndex out of range');
  }
  return {
    foundation,
    component: componentNumber,
    protocol: protocol.toLowerCase() as 'udp' | 'tcp',
    priority: Number(priority),
    address,
    port: portNumber,
    type: type.toLowerCase() as ParsedIceCandidate['type'],
    sdpMid: input.sdpMid ?? undefined,
    sdpMLineIndex: index ?? undefined,
    usernameFragment: input.usernameFragment ?? undefined,
  };
}

/** The `candidate:` line of one of the server's (mediasoup host) candidates. */
export function formatServerCandidate(c: ms.IceCandidate): string {
  const tcp = c.tcpType ? ` tcptype ${c.tcpType}` : '';
  return `candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}${tcp}`;
}
