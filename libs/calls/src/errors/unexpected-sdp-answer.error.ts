import { CallsError } from './calls.error';

/** A client sent an SDP answer while the server had no offer pending. */
export class UnexpectedSdpAnswerError extends CallsError {
  readonly code = 'unexpected_sdp_answer';

  constructor(readonly sessionId: string) {
    super(`answer without a pending server offer [sessionId=${sessionId}]`);
  }
}
