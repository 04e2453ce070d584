import {
  type RequestResponse,
  RequestResponse_Reason,
  type SignalRequest,
} from '@livekit/protocol';
import { CallsError, type CallsErrorCode } from '../../errors';
import type { SignalMessage } from './livekit-codec';
import { LiveKitMessages } from './livekit-messages';

const { NOT_FOUND, NOT_ALLOWED, LIMIT_EXCEEDED, UNCLASSIFIED_ERROR } = RequestResponse_Reason;

/**
 * The `request_response` reason of each error a request can fail with; `internal` marks the
 * errors that mean the server itself is broken (their message names internals: the client gets
 * "internal error"). A `Record` over the whole union, so a new code is a compile error until it
 * is placed here.
 */
const REFUSAL_REASONS: Readonly<Record<CallsErrorCode, RequestResponse_Reason | 'internal'>> = {
  already_in_call: UNCLASSIFIED_ERROR,
  call_full: LIMIT_EXCEEDED,
  call_not_found: NOT_FOUND,
  call_state_conflict: UNCLASSIFIED_ERROR,
  call_state_unavailable: UNCLASSIFIED_ERROR,
  corrupt_call_state: 'internal',
  draining: UNCLASSIFIED_ERROR,
  forbidden: NOT_ALLOWED,
  instance_unreachable: UNCLASSIFIED_ERROR,
  invalid_call_state_input: UNCLASSIFIED_ERROR,
  invalid_calls_config: 'internal',
  invalid_message: UNCLASSIFIED_ERROR,
  invalid_sdp: UNCLASSIFIED_ERROR,
  livekit_disabled: NOT_ALLOWED,
  message_too_large: LIMIT_EXCEEDED,
  no_common_codec: UNCLASSIFIED_ERROR,
  not_in_call: NOT_FOUND,
  rate_limited: LIMIT_EXCEEDED,
  screen_share_unavailable: NOT_ALLOWED,
  session_not_found: NOT_FOUND,
  sfu_session_exists: UNCLASSIFIED_ERROR,
  sfu_session_not_found: NOT_FOUND,
  sfu_unavailable: UNCLASSIFIED_ERROR,
  unauthenticated: NOT_ALLOWED,
  unexpected_sdp_answer: UNCLASSIFIED_ERROR,
  unknown_state_backend: 'internal',
};

/** A failed request's answer, and whether the failure was the server's own. */
export interface Refusal {
  /** A `request_response` with the request's id (if it has one), the request echoed where the protocol can. */
  readonly message: SignalMessage;
  /** Not the client's fault: an unexpected error, or one that means the server is broken. */
  readonly internal: boolean;
}

/**
 * The `request_response` a client gets for a request that failed with `err`: the module's errors
 * with their reason and `<code>: <message>` (e.g. `invalid_sdp: …`), anything else (and errors
 * that mean the server is broken) as UNCLASSIFIED_ERROR `internal error`, without its details.
 */
export function refusalOf(request: SignalRequest['message'], err: unknown): Refusal {
  const reason = err instanceof CallsError ? REFUSAL_REASONS[err.code] : 'internal';
  const internal = reason === 'internal';
  return {
    internal,
    message: LiveKitMessages.refused(
      requestIdOf(request),
      internal ? UNCLASSIFIED_ERROR : reason,
      internal ? 'internal error' : `${(err as CallsError).code}: ${(err as Error).message}`,
      echoOf(request),
    ),
  };
}

function requestIdOf(request: SignalRequest['message']): number {
  const value: unknown = request.value;
  const id =
    typeof value === 'object' && value !== null && 'requestId' in value ? value.requestId : 0;
  return typeof id === 'number' ? id : 0;
}

/** The request as `RequestResponse.request` carries it (the kinds the protocol lists). */
function echoOf(request: SignalRequest['message']): RequestResponse['request'] {
  switch (request.case) {
    case 'trickle':
    case 'addTrack':
    case 'mute':
    case 'updateMetadata':
    case 'updateAudioTrack':
    case 'updateVideoTrack':
      return request;
    default:
      return { case: undefined };
  }
}
