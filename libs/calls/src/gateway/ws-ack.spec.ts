import {
  CALLS_ERROR_CODES,
  CallStateUnavailableError,
  CorruptCallStateError,
  ForbiddenError,
  InvalidSdpError,
} from '../errors';
import { errorAck, WS_ERROR_DETAIL, wsError } from './ws-ack';

describe('wsError', () => {
  it('details every code except the ones that mean the server is broken', () => {
    expect(CALLS_ERROR_CODES.filter((c) => WS_ERROR_DETAIL[c] === 'internal')).toEqual([
      'corrupt_call_state',
      'invalid_calls_config',
      'unknown_state_backend',
    ]);
  });

  it("sends a domain error's code and message", () => {
    expect(errorAck(new ForbiddenError('no permissions'))).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'no permissions' },
    });
    expect(wsError(new InvalidSdpError('missing a=mid'))).toEqual({
      code: 'invalid_sdp',
      message: 'invalid session description: missing a=mid',
    });
    expect(wsError(new CallStateUnavailableError('read', new Error('ECONNREFUSED')))).toEqual({
      code: 'call_state_unavailable',
      message: 'call state backend unavailable during read: ECONNREFUSED',
    });
  });

  it('keeps the code but not the message of an internal error', () => {
    expect(wsError(new CorruptCallStateError('calls:state:c1', 'not JSON'))).toEqual({
      code: 'corrupt_call_state',
      message: 'internal error',
    });
    expect(errorAck(new TypeError('x is undefined'))).toEqual({
      ok: false,
      error: { code: 'internal_error', message: 'internal error' },
    });
  });
});
