import { CallsError } from './calls.error';

/** Cameras are disabled, or the call has as many cameras on as it may. */
export class VideoUnavailableError extends CallsError {
  readonly code = 'video_unavailable';

  constructor(reason: string) {
    super(reason);
  }
}
