import { CallsError } from './calls.error';

/** A mutation kept losing compare-and-swap races and gave up after its bounded retries. */
export class CallStateConflictError extends CallsError {
  readonly code = 'call_state_conflict';

  constructor(
    readonly callId: string,
    readonly attempts: number,
  ) {
    super(`call state changed concurrently too often [callId=${callId}, attempts=${attempts}]`);
  }
}
