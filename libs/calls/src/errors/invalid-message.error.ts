import { CallsError } from './calls.error';

/** A client message is malformed; nothing was changed. */
export class InvalidMessageError extends CallsError {
  readonly code = 'invalid_message';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid ${field}: ${reason}`);
  }
}
