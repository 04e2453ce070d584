import { CallsError } from './calls.error';

/** Screen sharing is disabled, or another session is sharing already. */
export class ScreenShareUnavailableError extends CallsError {
  readonly code = 'screen_share_unavailable';

  constructor(reason: string) {
    super(reason);
  }
}
