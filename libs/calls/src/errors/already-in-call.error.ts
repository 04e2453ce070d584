import { CallsError } from './calls.error';

/** The connection already has a call session (one session per connection). */
export class AlreadyInCallError extends CallsError {
  readonly code = 'already_in_call';

  constructor(readonly sessionId: string) {
    super(`this connection is already in a call [sessionId=${sessionId}]`);
  }
}
