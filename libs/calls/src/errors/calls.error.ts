import type { CallsErrorCode } from './calls-error-code';

/** Base class of every error the calls module throws on purpose. */
export abstract class CallsError extends Error {
  /** A stable, machine-readable code (e.g. `call_not_found`), one of {@link CallsErrorCode}. */
  abstract readonly code: CallsErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}
