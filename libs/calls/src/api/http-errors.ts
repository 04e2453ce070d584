import { HttpStatus } from '@nestjs/common';
import { CallsError } from '../errors/calls.error';

/** HTTP status of each domain error code (anything unknown is a 500). */
const STATUS: Record<string, number> = {
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  call_full: HttpStatus.FORBIDDEN,
  call_not_found: HttpStatus.BAD_REQUEST,
  session_not_found: HttpStatus.BAD_REQUEST,
  invalid_message: HttpStatus.BAD_REQUEST,
  invalid_call_state_input: HttpStatus.BAD_REQUEST,
  screen_share_unavailable: HttpStatus.BAD_REQUEST,
  not_in_call: HttpStatus.BAD_REQUEST,
  message_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  call_state_conflict: HttpStatus.CONFLICT,
  call_state_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  draining: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Mattermost's messages for the errors its clients know. */
const MESSAGE: Record<string, string> = {
  call_not_found: 'no call ongoing',
  session_not_found: 'requested session or user is not in the call',
  rate_limited: 'too many requests',
  unauthenticated: 'Unauthorized',
};

/** Mattermost's error body: `{message, status_code}` (+ our stable `code`). */
export interface MattermostErrorBody {
  message: string;
  status_code: number;
  code: string;
  detailed_error?: string;
}

/** The status and body for an error; internal errors are not detailed. */
export function httpError(err: unknown): { status: number; body: MattermostErrorBody } {
  if (err instanceof CallsError) {
    const status = STATUS[err.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    const message = MESSAGE[err.code] ?? err.message;
    const body: MattermostErrorBody = { message, status_code: status, code: err.code };
    if (message !== err.message) body.detailed_error = err.message;
    return { status, body };
  }
  const status = HttpStatus.INTERNAL_SERVER_ERROR;
  return {
    status,
    body: {
      message: 'An internal error has occurred.',
      status_code: status,
      code: 'internal_error',
    },
  };
}

/** Mattermost's success body. */
export const SUCCESS = { message: 'success', status_code: 200 } as const;
