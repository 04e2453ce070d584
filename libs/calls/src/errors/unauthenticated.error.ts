import { CallsError } from './calls.error';

/** The socket or request did not authenticate. */
export class UnauthenticatedError extends CallsError {
  readonly code = 'unauthenticated';

  constructor() {
    super('not authenticated');
  }
}
