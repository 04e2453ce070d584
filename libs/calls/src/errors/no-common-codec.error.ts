import { CallsError } from './calls.error';

/** A client wants to send media in a codec the call's router does not support. */
export class NoCommonCodecError extends CallsError {
  readonly code = 'no_common_codec';

  constructor(
    readonly kind: string,
    readonly mid: string,
    readonly offered: readonly string[],
  ) {
    super(`no common ${kind} codec [mid=${mid}, offered=${offered.join(',') || 'none'}]`);
  }
}
