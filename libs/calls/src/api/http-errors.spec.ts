import { HttpStatus } from '@nestjs/common';
import {
  CALLS_ERROR_CODES,
  CallNotFoundError,
  CorruptCallStateError,
  InvalidSdpError,
  RateLimitedError,
} from '../errors';
import { HTTP_STATUS_OF, httpError } from './http-errors';

/** The codes deliberately answered with 500: the server itself is broken, not the request. */
const INTERNAL = ['corrupt_call_state', 'invalid_calls_config', 'unknown_state_backend'];

describe('httpError', () => {
  it.each(CALLS_ERROR_CODES.filter((c) => !INTERNAL.includes(c)))(
    '%s maps to a 4xx or 503 status, not a silent 500',
    (code) => {
      const status = HTTP_STATUS_OF[code];
      const clientError =
        status >= HttpStatus.BAD_REQUEST && status < HttpStatus.INTERNAL_SERVER_ERROR;
      expect(clientError || status === HttpStatus.SERVICE_UNAVAILABLE).toBe(true);
    },
  );

  it('answers 500 only for the internal codes', () => {
    const internal = CALLS_ERROR_CODES.filter(
      (c) => HTTP_STATUS_OF[c] === HttpStatus.INTERNAL_SERVER_ERROR,
    );
    expect(internal).toEqual(INTERNAL);
  });

  it("keeps Mattermost's message and details our own", () => {
    expect(httpError(new CallNotFoundError('c1'))).toEqual({
      status: 400,
      body: {
        message: 'no call ongoing',
        status_code: 400,
        code: 'call_not_found',
        detailed_error: 'no active call [callId=c1]',
      },
    });
    expect(httpError(new RateLimitedError()).body).toEqual({
      message: 'too many requests',
      status_code: 429,
      code: 'rate_limited',
    });
  });

  it('answers a client error that used to fall through to 500 with its own status', () => {
    expect(httpError(new InvalidSdpError('missing a=fingerprint'))).toEqual({
      status: 400,
      body: {
        message: 'invalid session description: missing a=fingerprint',
        status_code: 400,
        code: 'invalid_sdp',
      },
    });
  });

  it('does not detail internal errors', () => {
    expect(httpError(new CorruptCallStateError('calls:state:c1', 'not JSON'))).toEqual({
      status: 500,
      body: {
        message: 'An internal error has occurred.',
        status_code: 500,
        code: 'corrupt_call_state',
      },
    });
    expect(httpError(new Error('secret'))).toEqual({
      status: 500,
      body: {
        message: 'An internal error has occurred.',
        status_code: 500,
        code: 'internal_error',
      },
    });
  });
});
