import { CallsError } from './calls.error';

/** This instance is shutting down and accepts no new joins; connect to another instance. */
export class DrainingError extends CallsError {
  readonly code = 'draining';

  constructor() {
    super('this server is shutting down; reconnect to join');
  }
}
