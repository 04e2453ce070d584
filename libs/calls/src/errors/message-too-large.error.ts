import { CallsError } from './calls.error';

/** A client message is over its size limit; it was refused before being parsed. */
export class MessageTooLargeError extends CallsError {
  readonly code = 'message_too_large';

  constructor(
    readonly field: string,
    readonly limitBytes: number,
  ) {
    super(`${field} is larger than ${limitBytes} bytes`);
  }
}
