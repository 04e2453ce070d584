import { CallsError } from './calls.error';

/** An id or value given to the call state repository is not acceptable. */
export class InvalidCallStateInputError extends CallsError {
  readonly code = 'invalid_call_state_input';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid ${field}: ${reason}`);
  }
}
