import { CallsError } from './calls.error';

/** No media session with this id on this instance (never opened, or already closed). */
export class SfuSessionNotFoundError extends CallsError {
  readonly code = 'sfu_session_not_found';

  constructor(readonly sessionId: string) {
    super(`no media session [sessionId=${sessionId}]`);
  }
}
