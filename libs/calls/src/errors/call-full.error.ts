import { CallsError } from './calls.error';

/** The call has reached its participant limit (Mattermost's message). */
export class CallFullError extends CallsError {
  readonly code = 'call_full';

  constructor(readonly limit: number) {
    super('user cannot join because of limits');
  }
}
