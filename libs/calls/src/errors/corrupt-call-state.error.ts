import { CallsError } from './calls.error';

/** A stored call state is not valid JSON of the expected shape; it is left untouched. */
export class CorruptCallStateError extends CallsError {
  readonly code = 'corrupt_call_state';

  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`stored call state is malformed [key=${key}]: ${reason}`);
  }
}
