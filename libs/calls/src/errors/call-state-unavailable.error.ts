import { CallsError } from './calls.error';

/** The Redis state backend did not answer (redis mode never falls back to memory). */
export class CallStateUnavailableError extends CallsError {
  readonly code = 'call_state_unavailable';

  constructor(operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : 'unknown reason';
    super(`call state backend unavailable during ${operation}: ${reason}`, { cause });
  }
}
