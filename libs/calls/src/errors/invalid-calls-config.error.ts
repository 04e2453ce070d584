import { CallsError } from './calls.error';

/** The calls configuration has invalid values; the message lists every one of them. */
export class InvalidCallsConfigError extends CallsError {
  readonly code = 'invalid_calls_config';

  constructor(readonly problems: readonly string[]) {
    super(
      `invalid calls configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
  }
}
