import { CallsError } from './calls.error';

/** The configured state backend is none of `memory`, `redis`, `auto`. */
export class UnknownStateBackendError extends CallsError {
  readonly code = 'unknown_state_backend';

  constructor(readonly backend: string) {
    super(`unknown call state backend "${backend}"; expected memory | redis | auto`);
  }
}
