import { CallsError } from './calls.error';

/** The connection has no session in a call, so the action does not apply. */
export class NotInCallError extends CallsError {
  readonly code = 'not_in_call';

  constructor() {
    super('this connection is not in a call');
  }
}
