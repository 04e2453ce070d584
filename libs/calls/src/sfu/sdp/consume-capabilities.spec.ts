import { ROUTER_RTP_CAPABILITIES } from '../../../../../test/fixtures/sfu/router-rtp-capabilities';
import { BundleRegistry } from './bundle-registry';
import { consumeCapabilities } from './consume-capabilities';
import type { MediaKind, SdpCodec } from './sdp.types';

const none = {
  codecs: new Map<MediaKind, SdpCodec[]>(),
  extensionUris: new Map<MediaKind, Set<string>>(),
};

describe('consumeCapabilities', () => {
  it('assumes the router capabilities (sending directions) before the client has shown any', () => {
    const caps = consumeCapabilities(ROUTER_RTP_CAPABILITIES, none, new BundleRegistry());
    expect(caps.codecs).toEqual(ROUTER_RTP_CAPABILITIES.codecs);
    expect(
      caps.headerExtensions?.every((e) => e.direction === 'sendrecv' || e.direction === 'sendonly'),
    ).toBe(true);
    expect(caps.headerExtensions?.map((e) => e.uri)).not.toContain(
      'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    );
  });

  it('keeps only codecs and extensions the client has shown, and none that clash with its numbers', () => {
    const vp8: SdpCodec = {
      payloadType: 120,
      mimeType: 'video/VP8',
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [],
    };
    const client = {
      codecs: new Map<MediaKind, SdpCodec[]>([['video', [vp8]]]),
      extensionUris: new Map<MediaKind, Set<string>>([
        ['video', new Set(['urn:ietf:params:rtp-hdrext:sdes:mid'])],
      ]),
    };
    const registry = new BundleRegistry();
    registry.registerExtension(10, 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id');
    const caps = consumeCapabilities(ROUTER_RTP_CAPABILITIES, client, registry);
    // Video: VP8 only (no RTX: the client showed none); audio: the router's (unknown yet).
    expect(caps.codecs?.filter((c) => c.kind === 'video').map((c) => c.mimeType)).toEqual([
      'video/VP8',
    ]);
    expect(caps.codecs?.filter((c) => c.kind === 'audio').map((c) => c.mimeType)).toEqual([
      'audio/opus',
    ]);
    expect(caps.headerExtensions?.filter((e) => e.kind === 'video').map((e) => e.uri)).toEqual([
      'urn:ietf:params:rtp-hdrext:sdes:mid',
    ]);
    // Audio level (router id 10) clashes with the client's id 10 (rid) and is left out.
    expect(caps.headerExtensions?.map((e) => e.uri)).not.toContain(
      'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    );
  });
});
