import {
  CHROME_DC_ONLY_OFFER,
  CHROME_OFFER,
  CHROME_SIMULCAST_OFFER,
} from '../../../../../test/fixtures/sfu/chrome-offers';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { MessageTooLargeError } from '../../errors/message-too-large.error';
import { parseClientDescription } from './client-description.parser';

const parse = (sdp: string, type: 'offer' | 'answer' = 'offer', max = 65536) =>
  parseClientDescription(type, sdp, max);

describe('parseClientDescription', () => {
  it('reads a Chrome offer: ICE, DTLS, BUNDLE, sections, codecs, extensions, streams', () => {
    const d = parse(CHROME_OFFER);
    expect(d.ice).toEqual({ usernameFragment: 'qexZ', password: 'wiYYWUuY7sHWhp/8s8+RcKf5' });
    expect(d.dtls.setup).toBe('actpass');
    expect(d.dtls.fingerprints[0].algorithm).toBe('sha-256');
    expect(d.dtls.fingerprints[0].value).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    expect(d.bundleMids).toEqual(['0', '1', '2']);
    expect(d.originVersion).toBe(2);
    expect(d.extmapAllowMixed).toBe(true);
    expect(d.sections.map((s) => [s.mid, s.kind, s.direction])).toEqual([
      ['0', 'audio', 'sendrecv'],
      ['1', 'video', 'sendonly'],
      ['2', 'application', 'sendrecv'],
    ]);
    const [audio, video, app] = d.sections;
    expect(audio.codecs[0]).toMatchObject({
      payloadType: 111,
      mimeType: 'audio/opus',
      clockRate: 48000,
      channels: 2,
      parameters: { minptime: 10, useinbandfec: 1 },
    });
    expect(audio.headerExtensions).toContainEqual({
      id: 1,
      uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    });
    expect(audio.encodings).toHaveLength(1);
    expect(audio.encodings[0].rtxSsrc).toBeUndefined();
    expect(audio.msid?.streamId).toBeTruthy();
    expect(audio.cname).toBeTruthy();
    // Video: one SSRC with its RTX SSRC (a=ssrc-group:FID).
    expect(video.encodings).toHaveLength(1);
    expect(video.encodings[0].rtxSsrc).toEqual(expect.any(Number));
    expect(video.codecs.find((c) => c.mimeType === 'video/rtx')?.parameters).toEqual({ apt: 96 });
    expect(video.codecs[0].rtcpFeedback).toContainEqual({ type: 'nack', parameter: 'pli' });
    expect(app).toMatchObject({ kind: 'application', sctpPort: 5000, maxMessageSize: 262144 });
  });

  it('reads the data-channel-only first offer of Mattermost clients', () => {
    const d = parse(CHROME_DC_ONLY_OFFER);
    expect(d.sections).toHaveLength(1);
    expect(d.sections[0]).toMatchObject({ mid: '0', kind: 'application', legacySctp: false });
  });

  it('reads simulcast rids', () => {
    const [video] = parse(CHROME_SIMULCAST_OFFER).sections;
    expect(video.simulcast).toBe(true);
    expect(video.encodings).toEqual([{ rid: 'l' }, { rid: 'h' }]);
  });

  it('rejects what it cannot use with InvalidSdpError, or MessageTooLargeError over the limit', () => {
    const cases: [string, string][] = [
      ['garbage', 'not a session description'],
      ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'at least one m= line'],
      [CHROME_OFFER.replace(/^o=.*$/m, 'o=broken'), 'o= line'],
      [CHROME_OFFER.replace(/a=ice-pwd:.*\r\n/g, ''), 'missing a=ice-ufrag / a=ice-pwd'],
      [CHROME_OFFER.replace(/a=ice-ufrag:.*\r\n/g, 'a=ice-ufrag:x\r\n'), 'malformed a=ice-ufrag'],
      [CHROME_OFFER.replace(/a=fingerprint:.*\r\n/g, ''), 'missing a=fingerprint'],
      [
        CHROME_OFFER.replace(/a=fingerprint:sha-256/g, 'a=fingerprint:md5'),
        'unsupported or malformed',
      ],
      [CHROME_OFFER.replace(/a=setup:actpass/g, 'a=setup:holdconn'), 'unsupported a=setup'],
      [CHROME_OFFER.replace(/a=mid:1\r\n/, ''), 'has no a=mid'],
      [CHROME_OFFER.replace(/a=mid:1\r\n/, 'a=mid:0\r\n'), 'duplicate a=mid:0'],
      [CHROME_OFFER.replace(/a=group:BUNDLE.*\r\n/, ''), 'BUNDLE'],
      [CHROME_OFFER.replace(/a=rtcp-mux\r\n/g, ''), 'lacks a=rtcp-mux'],
      [CHROME_DC_ONLY_OFFER.replace(/a=sctp-port:.*\r\n/, ''), 'no a=sctp-port'],
    ];
    for (const [sdp, message] of cases) {
      const read = () => parse(sdp);
      expect(read).toThrow(InvalidSdpError);
      expect(read).toThrow(message);
    }
    expect(() => parse(CHROME_OFFER, 'answer')).toThrow('must not use a=setup:actpass');
    expect(() => parse(CHROME_OFFER, 'offer', 1024)).toThrow(MessageTooLargeError);
    expect(() => parse(CHROME_OFFER, 'offer', 1024)).toThrow('sdp is larger than 1024 bytes');
  });

  it('takes a section with port 0 or an unknown kind as rejected', () => {
    const sdp = CHROME_OFFER.replace('m=video 9 ', 'm=video 0 ').replace(
      'm=application 9 UDP/DTLS/SCTP',
      'm=text 9 RTP/AVP',
    );
    const d = parse(sdp.replace('a=group:BUNDLE 0 1 2', 'a=group:BUNDLE 0'));
    expect(d.sections.map((s) => [s.kind, s.rejected])).toEqual([
      ['audio', false],
      ['video', true],
      [null, true],
    ]);
  });
});
