import { CallsError } from './calls.error';

/** The session is not part of the call. */
export class SessionNotFoundError extends CallsError {
  readonly code = 'session_not_found';

  constructor(
    readonly callId: string,
    readonly sessionId: string,
  ) {
    super(`session is not in the call [callId=${callId}, sessionId=${sessionId}]`);
  }
}
