import { HttpStatus } from '@nestjs/common';
import { CallsError, type CallsErrorCode } from '../errors';

/**
 * The HTTP status of every error code. A `Record` over the whole union, so a new code without a
 * status is a compile error instead of a silent 500.
 *
 * | status | codes | why |
 * |---|---|---|
 * | 400 | `invalid_message`, `invalid_call_state_input`, `invalid_sdp`, `no_common_codec` | the input cannot be used as sent |
 * | 400 | `call_not_found`, `session_not_found`, `not_in_call`, `screen_share_unavailable`, `video_unavailable` | Mattermost answers these with 400; its clients expect that |
 * | 401 | `unauthenticated` | no valid credentials |
 * | 403 | `forbidden`, `call_full` | authenticated but not allowed (Mattermost: a full call is 403) |
 * | 404 | `sfu_session_not_found` | this instance has no media session with that id |
 * | 404 | `livekit_disabled` | the LiveKit transport is off: the route answers as a server without it would |
 * | 409 | `call_state_conflict`, `already_in_call`, `sfu_session_exists`, `unexpected_sdp_answer` | the request contradicts the current state; retrying after a change can succeed |
 * | 413 | `message_too_large` | over a size limit, refused before parsing |
 * | 429 | `rate_limited` | too many requests |
 * | 503 | `call_state_unavailable`, `draining`, `instance_unreachable`, `sfu_unavailable` | a dependency or this instance is temporarily unable; another attempt (or instance) can succeed |
 * | 500 | `corrupt_call_state`, `invalid_calls_config`, `unknown_state_backend` | the server itself is broken (stored data, configuration): nothing the client can change |
 */
export const HTTP_STATUS_OF: Readonly<Record<CallsErrorCode, HttpStatus>> = {
  invalid_message: HttpStatus.BAD_REQUEST,
  invalid_call_state_input: HttpStatus.BAD_REQUEST,
  invalid_sdp: HttpStatus.BAD_REQUEST,
  no_common_codec: HttpStatus.BAD_REQUEST,
  call_not_found: HttpStatus.BAD_REQUEST,
  session_not_found: HttpStatus.BAD_REQUEST,
  not_in_call: HttpStatus.BAD_REQUEST,
  screen_share_unavailable: HttpStatus.BAD_REQUEST,
  video_unavailable: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  call_full: HttpStatus.FORBIDDEN,
  sfu_session_not_found: HttpStatus.NOT_FOUND,
  call_state_conflict: HttpStatus.CONFLICT,
  already_in_call: HttpStatus.CONFLICT,
  sfu_session_exists: HttpStatus.CONFLICT,
  unexpected_sdp_answer: HttpStatus.CONFLICT,
  message_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  livekit_disabled: HttpStatus.NOT_FOUND,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  call_state_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  draining: HttpStatus.SERVICE_UNAVAILABLE,
  instance_unreachable: HttpStatus.SERVICE_UNAVAILABLE,
  sfu_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  corrupt_call_state: HttpStatus.INTERNAL_SERVER_ERROR,
  invalid_calls_config: HttpStatus.INTERNAL_SERVER_ERROR,
  unknown_state_backend: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** Mattermost's messages for the errors its clients know. */
const MESSAGE: Readonly<Partial<Record<CallsErrorCode, string>>> = {
  call_not_found: 'no call ongoing',
  session_not_found: 'requested session or user is not in the call',
  rate_limited: 'too many requests',
  unauthenticated: 'Unauthorized',
};

/** Mattermost's error body: `{message, status_code}` (+ our stable `code`). */
export interface MattermostErrorBody {
  message: string;
  status_code: number;
  code: CallsErrorCode | 'internal_error';
  detailed_error?: string;
}

const INTERNAL_MESSAGE = 'An internal error has occurred.';

/**
 * The status and body for an error. Internal errors (a 500: an unexpected exception, or a
 * domain error that means the server itself is broken) are not detailed; only their code shows.
 */
export function httpError(err: unknown): { status: HttpStatus; body: MattermostErrorBody } {
  if (err instanceof CallsError) {
    const status = HTTP_STATUS_OF[err.code];
    if (status === HttpStatus.INTERNAL_SERVER_ERROR) {
      return { status, body: { message: INTERNAL_MESSAGE, status_code: status, code: err.code } };
    }
    const message = MESSAGE[err.code] ?? err.message;
    const body: MattermostErrorBody = { message, status_code: status, code: err.code };
    if (message !== err.message) body.detailed_error = err.message;
    return { status, body };
  }
  const status = HttpStatus.INTERNAL_SERVER_ERROR;
  return {
    status,
    body: { message: INTERNAL_MESSAGE, status_code: status, code: 'internal_error' },
  };
}

/** Mattermost's success body. */
export const SUCCESS = { message: 'success', status_code: 200 } as const;
