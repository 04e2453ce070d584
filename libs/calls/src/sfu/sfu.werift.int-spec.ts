import { randomUUID } from 'node:crypto';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import type { MediaSessionRef } from '../media/media-plane.interface';
import { SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

/** An Opus frame of 20 ms of silence (TOC 0xF8: CELT fullband 20 ms, one frame). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

/**
 * werift (a pure TypeScript WebRTC stack, used for load tests): a different SDP dialect
 * (max-bundle, no header extensions, its own data channel stream parity) and no codecs.
 */
describe('SfuService with a werift client', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start();
  });

  afterAll(async () => {
    await h.close();
  });

  it('negotiates both ways, receives and sends RTP, and gets pong on calls-dc', async () => {
    const callId = `call-${randomUUID()}`;
    const chrome = await h.join(callId, { name: 'chrome' }, (p) => p.addTone(440));
    await chrome.peer.waitConnected();

    const ref: MediaSessionRef = { callId, sessionId: `werift-${randomUUID()}`, userId: 'werift' };
    await h.sfu.openSession(ref);
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    const errors: unknown[] = [];
    let rtpReceived = 0;
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => rtpReceived++));
    pc.onIceCandidate.subscribe((c) => {
      if (c?.candidate) {
        h.sfu
          .addIceCandidate(ref.sessionId, {
            candidate: c.candidate,
            sdpMid: c.sdpMid,
            sdpMLineIndex: c.sdpMLineIndex,
          })
          .catch((err) => errors.push(err));
      }
    });
    const offer = async () => {
      await pc.setLocalDescription(await pc.createOffer());
      await h.sfu.handleDescription(ref.sessionId, {
        type: 'offer',
        sdp: pc.localDescription?.sdp ?? '',
      });
    };
    h.listen({
      signal: (r, s) => {
        if (r.sessionId !== ref.sessionId || (s.type !== 'offer' && s.type !== 'answer')) return;
        (async () => {
          await pc.setRemoteDescription({ type: s.type, sdp: s.sdp });
          if (s.type === 'offer') {
            await pc.setLocalDescription(await pc.createAnswer());
            await h.sfu.handleDescription(ref.sessionId, {
              type: 'answer',
              sdp: pc.localDescription?.sdp ?? '',
            });
          }
        })().catch((err) => errors.push(err));
      },
    });

    // Data channel only, like Mattermost's first offer.
    const dc = pc.createDataChannel('calls-dc');
    const messages: string[] = [];
    dc.onMessage.subscribe((m) => messages.push(String(m)));
    const connected = new Promise<void>((resolve) =>
      pc.connectionStateChange.subscribe((state) => state === 'connected' && resolve()),
    );
    await offer();
    await connected;

    // Receives the browser's voice (server offer, werift answers).
    await chrome.peer.waitFor(() => rtpReceived > 50, 10_000, 'werift receiving RTP');
    // werift opens its channel on stream 1 and waits for a DCEP ACK before it may send.
    await chrome.peer.waitFor(() => dc.readyState === 'open', 10_000, 'werift calls-dc open');
    dc.send('ping');
    await chrome.peer.waitFor(() => messages.includes('pong'), 5000, 'pong');

    // Sends audio: a new sendonly section (werift offers), RTP forwarded to the browser.
    const track = new MediaStreamTrack({ kind: 'audio' });
    pc.addTransceiver(track, { direction: 'sendonly' });
    await offer();
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      track.writeRtp(
        new RtpPacket(
          new RtpHeader({ payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: seq * 960 }),
          OPUS_SILENCE,
        ),
      );
    }, 20);
    try {
      await chrome.peer.waitFor(
        () => chrome.peer.heardTones([440], 0.5).length === 1,
        15_000,
        'the browser decoding werift audio',
      );
    } finally {
      clearInterval(timer);
    }
    expect(errors).toEqual([]);
    expect(chrome.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    await pc.close();
    chrome.peer.close();
  });
});
