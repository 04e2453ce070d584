import { CallsError } from './calls.error';

/** The SFU cannot take sessions: no media worker is running (disabled, starting or shutting down). */
export class SfuUnavailableError extends CallsError {
  readonly code = 'sfu_unavailable';

  constructor(readonly reason: string) {
    super(`media server unavailable: ${reason}`);
  }
}
