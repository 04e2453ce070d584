import { CallsError } from './calls.error';

/** The user may not do this (join this channel's call, use host controls, …). */
export class ForbiddenError extends CallsError {
  readonly code = 'forbidden';

  constructor(reason: string) {
    super(reason);
  }
}
