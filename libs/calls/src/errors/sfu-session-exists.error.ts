import { CallsError } from './calls.error';

/** `openSession` for a session id that already has a media session. */
export class SfuSessionExistsError extends CallsError {
  readonly code = 'sfu_session_exists';

  constructor(
    readonly sessionId: string,
    readonly callId: string,
  ) {
    super(`media session already open [sessionId=${sessionId}, callId=${callId}]`);
  }
}
