/**
 * Every error code of the calls module, one per {@link CallsError} subclass. Clients see these
 * in HTTP error bodies (`code`) and in WebSocket error acknowledgements (`error.code`), so they
 * are stable: add a code here together with its class, and the compiler asks for its HTTP status
 * (api/http-errors.ts) and its WebSocket treatment (gateway/ws-ack.ts).
 */
export const CALLS_ERROR_CODES = [
  'already_in_call',
  'call_full',
  'call_not_found',
  'call_state_conflict',
  'call_state_unavailable',
  'corrupt_call_state',
  'draining',
  'forbidden',
  'instance_unreachable',
  'invalid_call_state_input',
  'invalid_calls_config',
  'invalid_message',
  'invalid_sdp',
  'livekit_disabled',
  'message_too_large',
  'no_common_codec',
  'not_in_call',
  'rate_limited',
  'screen_share_unavailable',
  'session_not_found',
  'sfu_session_exists',
  'sfu_session_not_found',
  'sfu_unavailable',
  'unauthenticated',
  'unexpected_sdp_answer',
  'unknown_state_backend',
  'video_unavailable',
] as const;

/** A stable, machine-readable error code (e.g. `call_not_found`); see {@link CALLS_ERROR_CODES}. */
export type CallsErrorCode = (typeof CALLS_ERROR_CODES)[number];
