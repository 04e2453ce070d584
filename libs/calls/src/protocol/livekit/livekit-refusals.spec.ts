import {
  RequestResponse_Reason,
  SessionDescription,
  TrickleRequest,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import {
  CorruptCallStateError,
  ForbiddenError,
  InvalidMessageError,
  InvalidSdpError,
  MessageTooLargeError,
  SfuSessionNotFoundError,
} from '../../errors';
import { refusalOf } from './livekit-refusals';

describe('refusalOf (the request_response of a failed LiveKit request)', () => {
  const trickle = {
    case: 'trickle' as const,
    value: new TrickleRequest({ candidateInit: '{' }),
  };

  it('a client error: its reason, `<code>: <message>`, the request echoed; not internal', () => {
    const refusal = refusalOf(trickle, new InvalidMessageError('candidateInit', 'not JSON'));
    expect(refusal.internal).toBe(false);
    expect(refusal.message).toEqual({
      case: 'requestResponse',
      value: expect.objectContaining({
        requestId: 0,
        reason: RequestResponse_Reason.UNCLASSIFIED_ERROR,
        message: 'invalid_message: invalid candidateInit: not JSON',
        request: trickle,
      }),
    });
  });

  it.each([
    [new ForbiddenError('no'), RequestResponse_Reason.NOT_ALLOWED],
    [new MessageTooLargeError('sdp', 10), RequestResponse_Reason.LIMIT_EXCEEDED],
    [new SfuSessionNotFoundError('s1'), RequestResponse_Reason.NOT_FOUND],
    [new InvalidSdpError('no m= sections'), RequestResponse_Reason.UNCLASSIFIED_ERROR],
  ])('%s → reason %s', (err, reason) => {
    const offer = { case: 'offer' as const, value: new SessionDescription({ sdp: 'x' }) };
    const { message, internal } = refusalOf(offer, err);
    expect(internal).toBe(false);
    expect(message.case === 'requestResponse' && message.value.reason).toBe(reason);
    // An offer is not among the requests a request_response can carry.
    expect(message.case === 'requestResponse' && message.value.request.case).toBeUndefined();
  });

  it("the request's request_id is echoed", () => {
    const update = {
      case: 'updateMetadata' as const,
      value: new UpdateParticipantMetadata({ name: 'x', requestId: 42 }),
    };
    const { message } = refusalOf(update, new ForbiddenError('no'));
    expect(message.case === 'requestResponse' && message.value.requestId).toBe(42);
  });

  it.each([
    ['an unexpected error', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['an error meaning the server is broken', new CorruptCallStateError('rustchat:calls:x', 'bad')],
    ['a thrown non-error', 'boom'],
  ])('%s: internal, "internal error" without its details', (_what, err) => {
    const { message, internal } = refusalOf(trickle, err);
    expect(internal).toBe(true);
    expect(message.case === 'requestResponse' && message.value).toMatchObject({
      reason: RequestResponse_Reason.UNCLASSIFIED_ERROR,
      message: 'internal error',
    });
  });
});
