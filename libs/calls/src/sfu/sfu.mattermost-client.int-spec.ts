import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { browserLikeWebRtc, loadStockRTCPeer, type StockRTCPeer } from '../testing/stock-rtc-peer';
import { SfuHarness } from '../testing/sfu-harness';
import { ToneGenerator } from '../testing/tone';
import { loadWrtc } from '../testing/wrtc-test-peer';
import type { MediaSessionRef } from '../media/media-plane.interface';

jest.setTimeout(60_000);

/**
 * The stock Mattermost client's RTCPeer (`@mattermost/calls-common`) driving SfuService directly:
 * data channel first, text ping/pong RTT, microphone on unmute, answers to server offers, and the
 * `sendrecv` flip it applies to received video transceivers.
 */
describe('SfuService with the stock Mattermost RTCPeer', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start();
  });

  afterAll(async () => {
    await h.close();
  });

  it('connects, measures RTT on calls-dc, unmutes, hears and is heard, receives a screen share', async () => {
    const callId = `call-${randomUUID()}`;
    const eve = await h.join(callId, { name: 'eve' }, (p) => p.addTone(660));
    await eve.peer.waitConnected();

    const ref: MediaSessionRef = { callId, sessionId: `mm-${randomUUID()}`, userId: 'mm' };
    await h.sfu.openSession(ref);
    const RTCPeer = loadStockRTCPeer();
    const logs: string[] = [];
    const logger = {
      logDebug: () => undefined,
      logInfo: () => undefined,
      logWarn: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
      logErr: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
    };
    const rtcPeer: StockRTCPeer = new RTCPeer({
      iceServers: [],
      logger,
      webrtc: await browserLikeWebRtc(),
      connTimeoutMs: 15_000,
    });
    const errors: unknown[] = [];
    const streams: { getTracks(): { kind: string }[] }[] = [];
    rtcPeer.on('error', (err) => errors.push(err));
    rtcPeer.on('stream', (s: { getTracks(): { kind: string }[] }) => streams.push(s));
    const clientOffers: string[] = [];
    const send = (d: { type: 'offer' | 'answer'; sdp: string }) => {
      if (d.type === 'offer') clientOffers.push(d.sdp);
      h.sfu
        .handleDescription(ref.sessionId, { type: d.type, sdp: d.sdp })
        .catch((err) => errors.push(err));
    };
    rtcPeer.on('offer', send);
    rtcPeer.on('answer', send);
    rtcPeer.on(
      'candidate',
      (c: { candidate: string; sdpMid: string; sdpMLineIndex: number }) =>
        void h.sfu.addIceCandidate(ref.sessionId, c).catch((err) => errors.push(err)),
    );
    h.listen({
      signal: (r, signal) => {
        // Stock clients act on offer, answer and candidate only (signal.data is a JSON string).
        if (
          r.sessionId !== ref.sessionId ||
          !['offer', 'answer', 'candidate'].includes(signal.type)
        )
          return;
        rtcPeer.signal(JSON.stringify(signal)).catch((err) => errors.push(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      rtcPeer.once('connect', resolve);
      rtcPeer.once('close', reject);
    });

    // RTT from the client's own 'ping' → our 'pong' (sent every second).
    const rtt = rtcPeer as unknown as { getRTT(): number };
    for (let i = 0; i < 40 && rtt.getRTT() === 0; i++) await sleep(100);
    expect(rtt.getRTT()).toBeGreaterThan(0);
    console.log(`[mattermost] RTCPeer RTT ${(rtt.getRTT() * 1000).toFixed(1)} ms`);

    // Eve's voice was offered by the server and answered by the client.
    await eve.peer.waitFor(
      () => streams.some((s) => s.getTracks()[0]?.kind === 'audio'),
      10_000,
      'voice stream',
    );

    // First unmute: the microphone track (990 Hz) is added, a client offer follows.
    const wrtc = await loadWrtc();
    const source = new wrtc.nonstandard.RTCAudioSource();
    const tone = new ToneGenerator(990);
    const timer = setInterval(
      () => source.onData({ samples: tone.nextFrame(), sampleRate: 48000, channelCount: 1 }),
      10,
    );
    const mic = source.createTrack();
    try {
      rtcPeer.addStream(new wrtc.MediaStream([mic]));
      await eve.peer.waitFor(
        () =>
          eve.peer.heardTones([660, 990], 0.5).some((t) => t.frequencyHz === 990 && t.share > 0.9),
        15_000,
        'Eve hearing the stock client',
      );

      // A screen share from Eve: the client receives video and flips that transceiver to
      // sendrecv without a track; the server must not take that for a new video source.
      const producersBefore = h.sfu.stats().producers;
      const { streamId } = eve.peer.addVideo();
      await h.sfu.setScreenStream(eve.ref.sessionId, streamId);
      await eve.peer.waitFor(
        () => streams.some((s) => s.getTracks()[0]?.kind === 'video'),
        15_000,
        'screen stream',
      );
      await eve.peer.waitFor(
        () => clientOffers.some((o) => /m=video[^]*a=sendrecv[^]*a=msid:- /.test(o)),
        10_000,
        'the client offering its received video as sendrecv',
      );
      await sleep(500);
      expect(h.sfu.stats().producers).toBe(producersBefore + 1);
      expect(eve.peer.receiving('video')).toHaveLength(0);
    } finally {
      clearInterval(timer);
      mic.stop();
    }
    expect(errors).toEqual([]);
    expect(logs).toEqual([]);
    rtcPeer.destroy();
    await h.sfu.closeCall(callId);
    eve.peer.close();
  });
});
