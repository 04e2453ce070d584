import { BundleRegistry } from './bundle-registry';
import type { SdpCodec } from './sdp.types';

const codec = (
  pt: number,
  mimeType: string,
  parameters: Record<string, string | number> = {},
): SdpCodec => ({
  payloadType: pt,
  mimeType,
  clockRate: mimeType.startsWith('audio') ? 48000 : 90000,
  channels: mimeType.startsWith('audio') ? 2 : undefined,
  parameters,
  rtcpFeedback: [],
});

describe('BundleRegistry', () => {
  it('keeps one meaning per payload type and one format line per payload type', () => {
    const r = new BundleRegistry();
    expect(
      r.register(codec(111, 'audio/opus', { minptime: 10, useinbandfec: 1 })).parameters,
    ).toEqual({
      minptime: 10,
      useinbandfec: 1,
    });
    // Same codec, other parameters (another sender's fmtp): the first line is repeated.
    expect(r.register(codec(111, 'audio/opus', { useinbandfec: 1, stereo: 1 })).parameters).toEqual(
      {
        minptime: 10,
        useinbandfec: 1,
      },
    );
    expect(r.payloadTypeAllowed(codec(111, 'audio/opus'))).toBe(true);
    expect(r.payloadTypeAllowed(codec(111, 'video/VP8'))).toBe(false);
    expect(r.payloadTypeAllowed(codec(96, 'video/VP8'))).toBe(true);
  });

  it('tells RTX payload types apart by their associated payload type', () => {
    const r = new BundleRegistry();
    r.register(codec(97, 'video/rtx', { apt: 96 }));
    expect(r.payloadTypeAllowed(codec(97, 'video/rtx', { apt: 96 }))).toBe(true);
    expect(r.payloadTypeAllowed(codec(97, 'video/rtx', { apt: 98 }))).toBe(false);
  });

  it('refuses an extension id with another URI, and a URI under another id', () => {
    const r = new BundleRegistry();
    r.registerExtension(1, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level');
    r.registerExtension(4, 'urn:ietf:params:rtp-hdrext:sdes:mid');
    expect(r.extensionAllowed(1, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level')).toBe(true);
    expect(r.extensionAllowed(1, 'urn:ietf:params:rtp-hdrext:sdes:mid')).toBe(false);
    expect(r.extensionAllowed(10, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level')).toBe(false);
    expect(r.extensionAllowed(13, 'urn:3gpp:video-orientation')).toBe(true);
  });
});
