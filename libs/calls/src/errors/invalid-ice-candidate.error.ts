import { CallsError } from './calls.error';

/** A client ICE candidate is not a valid `candidate:` line (RFC 8839 §5.1). */
export class InvalidIceCandidateError extends CallsError {
  readonly code = 'invalid_ice_candidate';

  constructor(
    readonly reason: string,
    readonly sessionId?: string,
  ) {
    super(`invalid ICE candidate: ${reason}${sessionId ? ` [sessionId=${sessionId}]` : ''}`);
  }
}
