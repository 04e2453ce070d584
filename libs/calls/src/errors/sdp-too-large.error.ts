import { CallsError } from './calls.error';

/** A session description is larger than the limit (64 KiB, like Mattermost). */
export class SdpTooLargeError extends CallsError {
  readonly code = 'sdp_too_large';

  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`session description too large [bytes=${bytes}, limit=${limitBytes}]`);
  }
}
