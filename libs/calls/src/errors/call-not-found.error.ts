import { CallsError } from './calls.error';

/** No active call with the given id or in the given channel. */
export class CallNotFoundError extends CallsError {
  readonly code = 'call_not_found';

  constructor(readonly callId: string) {
    super(`no active call [callId=${callId}]`);
  }
}
