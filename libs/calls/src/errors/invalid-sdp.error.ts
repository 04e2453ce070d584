import { CallsError } from './calls.error';

/**
 * A session description from a client cannot be used: not SDP, a required attribute (ICE
 * credentials, DTLS fingerprint, mid, BUNDLE) is missing, or it contradicts the negotiated state.
 * The session and everything else stay as they were.
 */
export class InvalidSdpError extends CallsError {
  readonly code = 'invalid_sdp';

  constructor(
    readonly reason: string,
    readonly sessionId?: string,
  ) {
    super(`invalid session description: ${reason}${sessionId ? ` [sessionId=${sessionId}]` : ''}`);
  }
}
