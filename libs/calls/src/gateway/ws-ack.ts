import { CallsError, type CallsErrorCode } from '../errors';

/** The error a refused action reports: a stable code and a message for people. */
export interface WsError {
  readonly code: CallsErrorCode | 'internal_error';
  readonly message: string;
}

/** The acknowledgement every action gets when the client asks for one. */
export type WsAck = ({ ok: true } & Record<string, unknown>) | { ok: false; error: WsError };

/**
 * What a client learns of each error: `detailed` sends the error's message; `internal` sends only
 * the code and a generic message, because the error means the server itself is broken and its
 * message names internals (a storage key, the configuration). A `Record` over the whole union, so a
 * new code is a compile error until it is placed here.
 */
export const WS_ERROR_DETAIL: Readonly<Record<CallsErrorCode, 'detailed' | 'internal'>> = {
  already_in_call: 'detailed',
  call_full: 'detailed',
  call_not_found: 'detailed',
  call_state_conflict: 'detailed',
  call_state_unavailable: 'detailed',
  corrupt_call_state: 'internal',
  draining: 'detailed',
  forbidden: 'detailed',
  instance_unreachable: 'detailed',
  invalid_call_state_input: 'detailed',
  invalid_calls_config: 'internal',
  invalid_message: 'detailed',
  invalid_sdp: 'detailed',
  livekit_disabled: 'detailed',
  message_too_large: 'detailed',
  no_common_codec: 'detailed',
  not_in_call: 'detailed',
  rate_limited: 'detailed',
  screen_share_unavailable: 'detailed',
  session_not_found: 'detailed',
  sfu_session_exists: 'detailed',
  sfu_session_not_found: 'detailed',
  sfu_unavailable: 'detailed',
  unauthenticated: 'detailed',
  unexpected_sdp_answer: 'detailed',
  unknown_state_backend: 'internal',
  video_unavailable: 'detailed',
};

const INTERNAL_MESSAGE = 'internal error';

/** The error a client sees for any thrown value (unexpected ones are `internal_error`). */
export function wsError(err: unknown): WsError {
  if (!(err instanceof CallsError)) return { code: 'internal_error', message: INTERNAL_MESSAGE };
  const message = WS_ERROR_DETAIL[err.code] === 'detailed' ? err.message : INTERNAL_MESSAGE;
  return { code: err.code, message };
}

/** Turns any error into a clear error acknowledgement (internal errors are not detailed). */
export function errorAck(err: unknown): WsAck {
  return { ok: false, error: wsError(err) };
}
