import { MessageTooLargeError } from '../errors';
import { checkSdpSize, sdpTooLarge } from './sdp-size';

describe('the SDP size rule', () => {
  it('lets a description up to the limit through', () => {
    expect(() => checkSdpSize(65536, 65536)).not.toThrow();
  });

  it('refuses one over the limit with message_too_large on field sdp', () => {
    expect(() => checkSdpSize(65537, 65536)).toThrow(MessageTooLargeError);
    expect(sdpTooLarge(65536)).toMatchObject({
      code: 'message_too_large',
      field: 'sdp',
      limitBytes: 65536,
      message: 'sdp is larger than 65536 bytes',
    });
  });
});
