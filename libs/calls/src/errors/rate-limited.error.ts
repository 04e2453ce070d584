import { CallsError } from './calls.error';

/** Too many messages or requests; try again shortly. */
export class RateLimitedError extends CallsError {
  readonly code = 'rate_limited';

  constructor() {
    super('too many requests');
  }
}
