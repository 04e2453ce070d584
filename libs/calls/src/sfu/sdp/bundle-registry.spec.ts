import { BundleRegistry } from './bundle-registry';
import type { ClientDescription, ClientSection, SdpCodec } from './sdp.types';

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

describe('BundleRegistry (client numbering)', () => {
  const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
  const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
  const section = (
    mid: string,
    extensions: [number, string][],
    codecs: SdpCodec[],
    rejected = false,
  ): ClientSection => ({
    index: 0,
    mid,
    kind: 'audio',
    mediaType: 'audio',
    protocol: 'UDP/TLS/RTP/SAVPF',
    rejected,
    direction: 'sendrecv',
    codecs,
    headerExtensions: extensions.map(([id, uri]) => ({ id, uri })),
    encodings: [],
    simulcast: false,
    rtcpReducedSize: true,
    legacySctp: false,
  });
  const description = (...sections: ClientSection[]): ClientDescription => ({
    type: 'offer',
    originSessionId: '1',
    originVersion: 2,
    ice: { usernameFragment: 'u', password: 'p' },
    dtls: { fingerprints: [], setup: 'actpass' },
    bundleMids: sections.map((s) => s.mid),
    extmapAllowMixed: true,
    sections,
  });

  it("refuses a consumer the ids, URIs and payload types the client's descriptions use otherwise", () => {
    const r = new BundleRegistry();
    r.learnClient(
      description(
        section(
          '1',
          [
            [1, AUDIO_LEVEL],
            [4, MID],
          ],
          [codec(111, 'audio/opus'), codec(102, 'audio/ILBC')],
        ),
        section('2', [[5, 'urn:x:rejected']], [codec(100, 'audio/G722')], true),
      ),
    );
    // The server side knows nothing yet: client sections may still echo anything.
    expect(r.extensionAllowed(1, MID)).toBe(true);
    expect(r.consumerExtensionAllowed(1, MID)).toBe(false); // id 1 is audio level
    expect(r.consumerExtensionAllowed(10, AUDIO_LEVEL)).toBe(false); // audio level is id 1
    expect(r.consumerExtensionAllowed(4, MID)).toBe(true); // the client's own number for it
    // A number the client has not used yet: a crossing client offer may take it (glare).
    expect(r.consumerExtensionAllowed(5, 'urn:ietf:params:rtp-hdrext:toffset')).toBe(false);
    expect(r.consumerPayloadTypeAllowed(codec(111, 'audio/opus'))).toBe(true);
    expect(r.consumerPayloadTypeAllowed(codec(102, 'video/rtx', { apt: 109 }))).toBe(false);
    expect(r.consumerPayloadTypeAllowed(codec(100, 'video/rtx', { apt: 96 }))).toBe(true);
    // What the server described counts too.
    r.learnClient(description(section('3', [[14, 'urn:ietf:params:rtp-hdrext:toffset']], [])));
    expect(r.consumerExtensionAllowed(14, 'urn:ietf:params:rtp-hdrext:toffset')).toBe(true);
    r.registerExtension(14, 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay');
    expect(r.consumerExtensionAllowed(14, 'urn:ietf:params:rtp-hdrext:toffset')).toBe(false);
  });

  it('goes back to a copy (a given-up offer) without the numbers registered since', () => {
    const r = new BundleRegistry();
    r.registerExtension(1, AUDIO_LEVEL);
    const before = r.clone();
    r.registerExtension(4, MID);
    r.learnClient(description(section('1', [[2, MID]], [])));
    expect(r.extensionAllowed(2, MID)).toBe(false);
    expect(r.consumerExtensionAllowed(2, MID)).toBe(false); // the server gave MID id 4
    expect(before.extensionAllowed(2, MID)).toBe(true);
    expect(before.consumerExtensionAllowed(2, MID)).toBe(false); // the client never said so
    expect(before.extensionAllowed(1, MID)).toBe(false);
  });

  it('lets the server number extensions for a client that never offers (copies keep that)', () => {
    const r = new BundleRegistry({ serverNumbersExtensions: true });
    expect(r.consumerExtensionAllowed(1, MID)).toBe(true); // nothing says otherwise
    r.learnClient(description(section('1', [[10, AUDIO_LEVEL]], [])));
    expect(r.consumerExtensionAllowed(1, AUDIO_LEVEL)).toBe(false); // the client says 10
    expect(r.consumerExtensionAllowed(10, MID)).toBe(false); // 10 is audio level
    r.registerExtension(4, MID);
    expect(r.clone().consumerExtensionAllowed(1, MID)).toBe(false); // the server said 4
    expect(r.clone().consumerExtensionAllowed(14, 'urn:ietf:params:rtp-hdrext:toffset')).toBe(true);
  });
});
