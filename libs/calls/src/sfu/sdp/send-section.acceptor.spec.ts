import {
  CHROME_OFFER,
  CHROME_SIMULCAST_OFFER,
} from '../../../../../test/fixtures/sfu/chrome-offers';
import { ROUTER_RTP_CAPABILITIES } from '../../../../../test/fixtures/sfu/router-rtp-capabilities';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { NoCommonCodecError } from '../../errors/no-common-codec.error';
import { BundleRegistry } from './bundle-registry';
import { parseClientDescription } from './client-description.parser';
import { acceptSendSection, commonCodecs } from './send-section.acceptor';

const sections = (sdp: string) => parseClientDescription('offer', sdp, 65536).sections;

describe('acceptSendSection', () => {
  it('takes the first common codec with its RTX, the known extensions and the SSRCs', () => {
    const [audio, video] = sections(CHROME_OFFER);
    const a = acceptSendSection(audio, ROUTER_RTP_CAPABILITIES, new BundleRegistry());
    expect(a.codecs.map((c) => [c.payloadType, c.mimeType])).toEqual([[111, 'audio/opus']]);
    expect(a.rtpParameters.mid).toBe('0');
    expect(a.rtpParameters.encodings).toEqual([{ ssrc: audio.encodings[0].ssrc }]);
    expect(a.rtpParameters.headerExtensions?.map((e) => e.uri)).toContain(
      'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    );
    expect(a.rtpParameters.rtcp).toEqual({ cname: audio.cname, reducedSize: false });

    const v = acceptSendSection(video, ROUTER_RTP_CAPABILITIES, new BundleRegistry());
    expect(v.codecs.map((c) => [c.payloadType, c.mimeType])).toEqual([
      [96, 'video/VP8'],
      [97, 'video/rtx'],
    ]);
    expect(v.rtpParameters.encodings).toEqual([
      { ssrc: video.encodings[0].ssrc, rtx: { ssrc: video.encodings[0].rtxSsrc } },
    ]);
    // Extensions the router does not know (video-content-type, color-space, …) are left out.
    expect(v.headerExtensions.map((e) => e.uri)).not.toContain(
      'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
    );
    expect(v.codecs[0].rtcpFeedback).toContainEqual({ type: 'nack', parameter: 'pli' });
  });

  it("leaves out a MID under an id the router writes for something else (Chrome's 4)", () => {
    const mid = 'urn:ietf:params:rtp-hdrext:sdes:mid';
    // mediasoup writes abs-send-time under 4 into every video packet it forwards.
    const [audio, video] = sections(CHROME_OFFER);
    for (const section of [audio, video]) {
      expect(section.headerExtensions).toContainEqual({ id: 4, uri: mid });
      const accepted = acceptSendSection(section, ROUTER_RTP_CAPABILITIES, new BundleRegistry());
      expect(accepted.headerExtensions.map((e) => e.uri)).not.toContain(mid);
      expect(accepted.rtpParameters.headerExtensions?.map((e) => e.uri)).not.toContain(mid);
    }
    // Under an id the router leaves free (9, a video-first Chrome) it stays.
    const [simulcast] = sections(CHROME_SIMULCAST_OFFER);
    const v = acceptSendSection(simulcast, ROUTER_RTP_CAPABILITIES, new BundleRegistry());
    expect(v.headerExtensions).toContainEqual({ id: 9, uri: mid });
  });

  it('takes simulcast rids as encodings', () => {
    const [video] = sections(CHROME_SIMULCAST_OFFER);
    const v = acceptSendSection(video, ROUTER_RTP_CAPABILITIES, new BundleRegistry());
    expect(v.rids).toEqual(['l', 'h']);
    expect(v.rtpParameters.encodings).toEqual([
      { rid: 'l', scalabilityMode: 'L1T3' },
      { rid: 'h', scalabilityMode: 'L1T3' },
    ]);
    const noRidExtension = sections(
      CHROME_SIMULCAST_OFFER.replace(
        /a=extmap:\d+ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n/,
        '',
      ),
    )[0];
    expect(() =>
      acceptSendSection(noRidExtension, ROUTER_RTP_CAPABILITIES, new BundleRegistry()),
    ).toThrow(InvalidSdpError);
  });

  it('throws NoCommonCodecError when the router supports none of the offered codecs', () => {
    const onlyG722 = CHROME_OFFER.replace(/^(m=audio \d+ [A-Z/]+) .*$/m, '$1 9');
    const [audio] = sections(onlyG722);
    expect(() => acceptSendSection(audio, ROUTER_RTP_CAPABILITIES, new BundleRegistry())).toThrow(
      NoCommonCodecError,
    );
    expect(commonCodecs(audio, ROUTER_RTP_CAPABILITIES, new BundleRegistry())).toEqual([]);
  });

  it('avoids payload types and extension ids the session already uses for something else', () => {
    const [audio] = sections(CHROME_OFFER);
    const registry = new BundleRegistry();
    registry.register({
      ...audio.codecs[0],
      payloadType: 111,
      mimeType: 'video/VP8',
      clockRate: 90000,
      channels: undefined,
    });
    registry.registerExtension(1, 'urn:ietf:params:rtp-hdrext:sdes:mid');
    expect(() => acceptSendSection(audio, ROUTER_RTP_CAPABILITIES, registry)).toThrow(
      NoCommonCodecError,
    );
    const other = new BundleRegistry();
    other.registerExtension(1, 'urn:ietf:params:rtp-hdrext:sdes:mid');
    const a = acceptSendSection(audio, ROUTER_RTP_CAPABILITIES, other);
    expect(a.headerExtensions.map((e) => e.id)).not.toContain(1);
  });
});
