import * as sdpTransform from 'sdp-transform';
import { parseClientDescription } from './client-description.parser';
import type { LocalDescription } from './local-description';
import { writeLocalDescription } from './sdp-writer';

const transport = {
  ice: { usernameFragment: 'abcdefgh12345678', password: 'abcdefghijklmnopqrstuvwxyz012345' },
  candidates: [
    {
      foundation: 'udpcandidate',
      priority: 1076302079,
      ip: '127.0.0.1',
      address: '127.0.0.1',
      protocol: 'udp' as const,
      port: 40000,
      type: 'host' as const,
    },
    {
      foundation: 'tcpcandidate',
      priority: 1076276479,
      ip: '127.0.0.1',
      address: '127.0.0.1',
      protocol: 'tcp' as const,
      port: 40001,
      type: 'host' as const,
      tcpType: 'passive' as const,
    },
  ],
  fingerprints: [{ algorithm: 'sha-256' as const, value: 'AB:'.repeat(31) + 'AB' }],
  setup: 'actpass' as const,
};

const description: LocalDescription = {
  originSessionId: '1234',
  originVersion: 3,
  transport,
  extmapAllowMixed: false,
  sections: [
    {
      kind: 'application',
      mid: '0',
      protocol: 'UDP/DTLS/SCTP',
      rejected: false,
      sctpPort: 5000,
      maxMessageSize: 262144,
      legacySctp: false,
    },
    {
      kind: 'audio',
      mid: 's1',
      protocol: 'UDP/TLS/RTP/SAVPF',
      rejected: false,
      direction: 'sendonly',
      codecs: [
        {
          payloadType: 111,
          mimeType: 'audio/opus',
          clockRate: 48000,
          channels: 2,
          parameters: { minptime: 10, useinbandfec: 1 },
          rtcpFeedback: [{ type: 'transport-cc' }],
        },
      ],
      headerExtensions: [{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' }],
      send: { ssrc: 1111, cname: 'c', streamId: 'voice_s', trackId: 'voice_s_1' },
      rtcpReducedSize: true,
    },
    {
      kind: 'video',
      mid: 's2',
      protocol: 'UDP/TLS/RTP/SAVPF',
      rejected: false,
      direction: 'sendonly',
      codecs: [
        {
          payloadType: 96,
          mimeType: 'video/VP8',
          clockRate: 90000,
          parameters: {},
          rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
        },
        {
          payloadType: 100,
          mimeType: 'video/rtx',
          clockRate: 90000,
          parameters: { apt: 96 },
          rtcpFeedback: [],
        },
      ],
      headerExtensions: [],
      send: { ssrc: 2222, rtxSsrc: 3333, cname: 'c', streamId: 'screen_s', trackId: 'screen_s_1' },
      rtcpReducedSize: true,
    },
    {
      kind: 'audio',
      mid: '3',
      protocol: 'UDP/TLS/RTP/SAVPF',
      rejected: true,
      direction: 'inactive',
      codecs: [],
      headerExtensions: [],
      rtcpReducedSize: true,
    },
  ],
};

describe('writeLocalDescription', () => {
  const sdp = writeLocalDescription(description);
  const parsed = sdpTransform.parse(sdp);

  it('writes an ICE-lite description with one BUNDLE group of the sections that are not rejected', () => {
    expect(parsed.icelite).toBe('ice-lite');
    expect(parsed.groups).toEqual([{ type: 'BUNDLE', mids: '0 s1 s2' }]);
    expect(parsed.fingerprint?.type).toBe('sha-256');
    expect(parsed.origin.sessionVersion).toBe(3);
    expect(parsed.media.map((m) => [String(m.mid), m.port])).toEqual([
      ['0', 7],
      ['s1', 7],
      ['s2', 7],
      ['3', 0],
    ]);
  });

  it('puts ICE credentials, candidates and setup in every bundled section', () => {
    for (const m of parsed.media.slice(0, 3)) {
      expect(m.iceUfrag).toBe('abcdefgh12345678');
      expect(m.setup).toBe('actpass');
      expect(m.candidates?.map((c) => `${c.transport} ${c.port} ${c.tcptype ?? ''}`)).toEqual([
        'udp 40000 ',
        'tcp 40001 passive',
      ]);
    }
    expect(parsed.media[3].candidates).toBeUndefined();
  });

  it('describes the sent streams with msid, SSRCs and the RTX group', () => {
    const video = parsed.media[2];
    expect(video.direction).toBe('sendonly');
    expect(video.msid).toEqual([{ id: 'screen_s', appdata: 'screen_s_1' }]);
    expect(video.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: '2222 3333' }]);
    expect(video.fmtp).toEqual([{ payload: 100, config: 'apt=96' }]);
    expect(parsed.media[1].fmtp).toEqual([{ payload: 111, config: 'minptime=10;useinbandfec=1' }]);
    expect(parsed.media[0]).toMatchObject({
      sctpPort: 5000,
      maxMessageSize: 262144,
      payloads: 'webrtc-datachannel',
    });
  });

  it('is valid input for the client-side parser as well (round trip, as an answer)', () => {
    const answer = writeLocalDescription({
      ...description,
      transport: { ...transport, setup: 'passive' },
    });
    const back = parseClientDescription('answer', answer, 65536);
    expect(back.sections.map((s) => s.mid)).toEqual(['0', 's1', 's2', '3']);
    expect(back.dtls.setup).toBe('passive');
  });
});
