import type { types as ms } from 'mediasoup';
import { describeSlot } from './peer-description.builder';
import { newSlot } from './peer-slot';
import { BundleRegistry } from '../sdp/bundle-registry';
import type { LocalRtpSection } from '../sdp/local-description';
import type { ClientDescription, ClientSection, SdpCodec } from '../sdp/sdp.types';

const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const ABS_CAPTURE_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
const PLAYOUT_DELAY = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

const opus: SdpCodec = {
  payloadType: 111,
  mimeType: 'audio/opus',
  clockRate: 48000,
  channels: 2,
  parameters: { minptime: 10, useinbandfec: 1 },
  rtcpFeedback: [],
};

function section(
  mid: string,
  extensions: [number, string][],
  direction = 'sendrecv',
): ClientSection {
  return {
    index: 0,
    mid,
    kind: 'audio',
    mediaType: 'audio',
    protocol: 'UDP/TLS/RTP/SAVPF',
    rejected: false,
    direction: direction as ClientSection['direction'],
    codecs: [opus],
    headerExtensions: extensions.map(([id, uri]) => ({ id, uri })),
    encodings: [],
    simulcast: false,
    rtcpReducedSize: true,
    legacySctp: false,
  };
}

/** A consumer as far as describing its section goes (router numbering: 1 mid, 13, 14). */
const consumer = {
  closed: false,
  rtpParameters: {
    codecs: [{ ...opus, rtcpFeedback: [] }],
    headerExtensions: [
      { uri: MID, id: 1 },
      { uri: ABS_CAPTURE_TIME, id: 13 },
      { uri: PLAYOUT_DELAY, id: 14 },
    ],
    encodings: [{ ssrc: 1234 }],
    rtcp: { cname: 'sfu' },
  },
} as unknown as ms.Consumer;

describe('describeSlot', () => {
  /**
   * A session whose client numbered its microphone section like Chrome (1 = audio level), with
   * abs-capture-time under the router's id.
   */
  function session(): BundleRegistry {
    const registry = new BundleRegistry();
    const mic = section('1', [
      [1, AUDIO_LEVEL],
      [4, MID],
      [13, ABS_CAPTURE_TIME],
    ]);
    const offer: ClientDescription = {
      type: 'offer',
      originSessionId: '1',
      originVersion: 3,
      ice: { usernameFragment: 'u', password: 'p' },
      dtls: { fingerprints: [], setup: 'actpass' },
      bundleMids: ['1'],
      extmapAllowMixed: true,
      sections: [mic],
    };
    registry.learnClient(offer);
    mic.headerExtensions.forEach((e) => registry.registerExtension(e.id, e.uri));
    return registry;
  }

  it('offers in a consumer section only ids the client numbered the same way', () => {
    const slot = { ...newSlot('s1', 'audio', 'server'), consumer };
    const offered = describeSlot(slot, session()) as LocalRtpSection;
    expect(offered.direction).toBe('sendonly');
    // 1 is the client's audio level; 14 it never numbered (a crossing offer may take it).
    expect(offered.headerExtensions).toEqual([{ id: 13, uri: ABS_CAPTURE_TIME }]);
  });

  it('answers only with ids the client offered in the section, never with clashing ones', () => {
    const slot = { ...newSlot('s1', 'audio', 'server'), consumer };
    // The client offers the section with its own audio level id and abs-capture-time as 13.
    const answering = section(
      's1',
      [
        [1, AUDIO_LEVEL],
        [13, ABS_CAPTURE_TIME],
      ],
      'recvonly',
    );
    const answer = describeSlot(slot, session(), answering) as LocalRtpSection;
    expect(answer.direction).toBe('sendonly');
    expect(answer.headerExtensions).toEqual([{ id: 13, uri: ABS_CAPTURE_TIME }]);
  });
});
