import type { types as ms } from 'mediasoup';
import { ROUTER_RTP_CAPABILITIES } from '../../../../../test/fixtures/sfu/router-rtp-capabilities';
import { ClientKnowledge } from '../peer/client-knowledge';
import { BundleRegistry } from './bundle-registry';
import { parseClientDescription } from './client-description.parser';
import { consumeCapabilities, consumerFits } from './consume-capabilities';
import type { ClientDescription, MediaKind, SdpCodec } from './sdp.types';

const none = {
  codecs: new Map<MediaKind, SdpCodec[]>(),
  extensionUris: new Map<MediaKind, Set<string>>(),
};

const MID: ms.RtpHeaderExtensionUri = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const AUDIO_LEVEL: ms.RtpHeaderExtensionUri = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const ABS_SEND_TIME: ms.RtpHeaderExtensionUri =
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
const TRANSPORT_CC: ms.RtpHeaderExtensionUri =
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** A client description of one section of `kind` numbering the given extensions. */
function numbering(kind: MediaKind, extensions: [number, string][]): ClientDescription {
  return {
    type: 'offer',
    originSessionId: '1',
    originVersion: 2,
    ice: { usernameFragment: 'u', password: 'p' },
    dtls: { fingerprints: [], setup: 'actpass' },
    bundleMids: ['m'],
    extmapAllowMixed: true,
    sections: [
      {
        index: 0,
        mid: 'm',
        kind,
        mediaType: kind,
        protocol: 'UDP/TLS/RTP/SAVPF',
        rejected: false,
        direction: 'sendrecv',
        codecs: [],
        headerExtensions: extensions.map(([id, uri]) => ({ id, uri })),
        encodings: [],
        simulcast: false,
        rtcpReducedSize: true,
        legacySctp: false,
      },
    ],
  };
}

/**
 * A client offer adding a microphone as a new section, numbered as Chrome numbers a session's
 * first audio section (the Mattermost client's second offer, after the data channel).
 */
const CHROME_MIC_OFFER = [
  'v=0',
  'o=- 5736534561432856674 3 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:fkTP',
  'a=ice-pwd:xaXoUaI4AZ7j1Lt5IDtQzqCE',
  'a=fingerprint:sha-256 5F:EA:59:ED:03:33:30:CB:54:EE:49:16:CF:46:47:30:C2:7B:53:3E:91:41:EE:C5:C8:7F:53:B5:F2:76:AA:68',
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 102 110',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:fkTP',
  'a=ice-pwd:xaXoUaI4AZ7j1Lt5IDtQzqCE',
  'a=fingerprint:sha-256 5F:EA:59:ED:03:33:30:CB:54:EE:49:16:CF:46:47:30:C2:7B:53:3E:91:41:EE:C5:C8:7F:53:B5:F2:76:AA:68',
  'a=setup:actpass',
  'a=mid:1',
  `a=extmap:1 ${AUDIO_LEVEL}`,
  `a=extmap:2 ${ABS_SEND_TIME}`,
  `a=extmap:3 ${TRANSPORT_CC}`,
  `a=extmap:4 ${MID}`,
  'a=sendrecv',
  'a=msid:stream track',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:102 ILBC/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=ssrc:376786940 cname:aoaZRrNbuSZ89VSd',
  '',
].join('\r\n');

describe('consumeCapabilities', () => {
  it("assumes the router's codecs of the kind, and no extension, before the client has shown any", () => {
    const caps = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'video', none, new BundleRegistry());
    expect(caps.codecs).toEqual(ROUTER_RTP_CAPABILITIES.codecs?.filter((c) => c.kind === 'video'));
    // No number the client has not used: its next offer may give it another meaning (glare).
    expect(caps.headerExtensions).toEqual([]);
    const audio = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'audio', none, new BundleRegistry());
    expect(audio.codecs?.map((c) => c.mimeType)).toEqual(['audio/opus']);
    expect(audio.headerExtensions).toEqual([]);
  });

  it("keeps the router's extensions the client numbered the same way, of the kind and sending directions", () => {
    const registry = new BundleRegistry();
    registry.learnClient(
      numbering('video', [
        [1, MID],
        [4, ABS_SEND_TIME],
        [2, 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'],
        [5, TRANSPORT_CC],
      ]),
    );
    const video = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'video', none, registry);
    // rtp-stream-id is a receive-only router extension; the rest are the router's ids.
    expect(video.headerExtensions?.map((e) => [e.preferredId, e.uri])).toEqual([
      [1, MID],
      [4, ABS_SEND_TIME],
      [5, TRANSPORT_CC],
    ]);
    // Only the kind's extensions: mediasoup would give an audio consumer a video-only one that
    // shares an id and URI with it (it matches extensions by id and URI alone).
    const audio = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'audio', none, registry);
    expect(audio.headerExtensions?.every((e) => e.kind === 'audio')).toBe(true);
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
      extensionUris: new Map<MediaKind, Set<string>>([['video', new Set([MID])]]),
    };
    const registry = new BundleRegistry();
    registry.learnClient(numbering('video', [[1, MID]]));
    registry.learnClient(numbering('audio', [[10, AUDIO_LEVEL]]));
    const video = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'video', client, registry);
    // Video: VP8 only (no RTX: the client showed none).
    expect(video.codecs?.map((c) => c.mimeType)).toEqual(['video/VP8']);
    expect(video.headerExtensions?.map((e) => e.uri)).toEqual([MID]);
    // Audio: the router's codecs (unknown yet); audio level (router id 10) as the client
    // numbered it, until the session gives 10 another meaning.
    const audio = () => consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'audio', client, registry);
    expect(audio().codecs?.map((c) => c.mimeType)).toEqual(['audio/opus']);
    expect(audio().headerExtensions?.map((e) => e.uri)).toEqual([MID, AUDIO_LEVEL]);
    registry.registerExtension(10, 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id');
    expect(audio().headerExtensions?.map((e) => e.uri)).toEqual([MID]);
  });

  it("leaves out every router number the client's own descriptions give another meaning", () => {
    const registry = new BundleRegistry();
    const offer = parseClientDescription('offer', CHROME_MIC_OFFER, 65536);
    registry.learnClient(offer);
    // Chrome: 1 audio level, 2 abs-send-time, 3 transport-cc, 4 mid; the router: 1 mid,
    // 4 abs-send-time, 10 audio level: each clashes by id or URI, and the client never numbered
    // the router's others (13, 14).
    const knowledge = new ClientKnowledge();
    knowledge.learn(offer);
    const audio = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'audio', knowledge, registry);
    expect(audio.headerExtensions).toEqual([]);
    expect(audio.codecs?.map((c) => c.preferredPayloadType)).toEqual([111]);
    // Video (not described yet): the router's codecs without RTX 102 for H.264 (its ILBC).
    const video = consumeCapabilities(ROUTER_RTP_CAPABILITIES, 'video', none, registry);
    expect(video.headerExtensions).toEqual([]);
    expect(video.codecs?.map((c) => c.preferredPayloadType)).toEqual([96, 100, 98, 101, 109]);
  });
});

describe('consumerFits', () => {
  const opus: ms.RtpCodecParameters = {
    mimeType: 'audio/opus',
    payloadType: 111,
    clockRate: 48000,
    channels: 2,
    parameters: { minptime: 10, useinbandfec: 1 },
    rtcpFeedback: [],
  };
  // What a consumer made before the client described any audio section carries.
  const early: ms.RtpParameters = {
    codecs: [opus],
    headerExtensions: [
      { uri: MID, id: 1 },
      { uri: ABS_SEND_TIME, id: 4 },
      { uri: AUDIO_LEVEL, id: 10 },
    ],
  };

  it('fits while the client numbers its extensions the same way, until it gives one another meaning', () => {
    const registry = new BundleRegistry();
    // Router numbers the client never used: a crossing client offer may take them.
    expect(consumerFits(early, registry)).toBe(false);
    registry.learnClient(
      numbering(
        'audio',
        (early.headerExtensions ?? []).map((e) => [e.id, e.uri]),
      ),
    );
    expect(consumerFits(early, registry)).toBe(true);
    registry.learnClient(parseClientDescription('offer', CHROME_MIC_OFFER, 65536));
    expect(consumerFits(early, registry)).toBe(false);
    expect(consumerFits({ codecs: [opus], headerExtensions: [] }, registry)).toBe(true);
    // A payload type the client uses for another codec clashes too.
    const onIlbc = { ...early, codecs: [{ ...opus, payloadType: 102 }], headerExtensions: [] };
    expect(consumerFits(onIlbc, registry)).toBe(false);
  });

  it('fits what the server already described with the same meaning', () => {
    const registry = new BundleRegistry();
    early.headerExtensions?.forEach((e) => registry.registerExtension(e.id, e.uri));
    registry.learnClient(
      numbering(
        'audio',
        (early.headerExtensions ?? []).map((e) => [e.id, e.uri]),
      ),
    );
    expect(consumerFits(early, registry)).toBe(true);
    const renumbered = { ...early, headerExtensions: [{ uri: MID, id: 9 }] };
    expect(consumerFits(renumbered, registry)).toBe(false);
  });
});
