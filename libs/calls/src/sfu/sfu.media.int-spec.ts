import { randomUUID } from 'node:crypto';
import * as sdpTransform from 'sdp-transform';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

const TONES = [440, 660, 880, 1100] as const;
const ALL = [...TONES];

/** The tone frequencies a peer hears on its currently receiving audio tracks, sorted. */
function heard({ peer }: HarnessPeer, minSeconds = 0.5): number[] {
  return peer
    .heardTones(ALL, minSeconds)
    .map((t) => t.frequencyHz)
    .sort((a, b) => a - b);
}

async function waitHearing(p: HarnessPeer, expected: number[], timeoutMs = 15_000): Promise<void> {
  const want = [...expected].sort((a, b) => a - b);
  await p.peer.waitFor(
    () => JSON.stringify(heard(p)) === JSON.stringify(want),
    timeoutMs,
    `hearing ${want.join(',') || 'nothing'} (hears ${heard(p).join(',') || 'nothing'})`,
  );
}

describe('SfuService media with real WebRTC peers (@roamhq/wrtc)', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 2 });
  });

  afterAll(async () => {
    await h.close();
  });

  it('three peers each receive exactly the other two and hear their tones', async () => {
    const callId = `call-${randomUUID()}`;
    const peers: HarnessPeer[] = [];
    for (const [i, hz] of TONES.slice(0, 3).entries()) {
      peers.push(await h.join(callId, { name: `tone${i}` }, (p) => p.addTone(hz)));
    }
    await Promise.all(peers.map(({ peer }) => peer.waitConnected()));
    for (const [i, p] of peers.entries()) {
      const others = TONES.slice(0, 3).filter((_, j) => j !== i);
      await waitHearing(p, others);
      expect(p.peer.receiving('audio')).toHaveLength(2);
      const tones = p.peer.heardTones(ALL, 0.5);
      expect(tones).toHaveLength(2);
      // Frequency margin: the expected tone carries nearly all the power of the candidates.
      for (const tone of tones) expect(tone.share).toBeGreaterThan(0.95);
      console.log(
        `[media] ${p.peer.name} hears ${tones.map((t) => `${t.frequencyHz}Hz share=${t.share.toFixed(5)}`).join(', ')}`,
      );
      expect(p.peer.errors).toEqual([]);
    }
    // One router for the call, one transport per session, everyone consumes everyone else.
    expect(h.sfu.stats()).toMatchObject({ routers: 1, transports: 3, producers: 3, consumers: 6 });
    // Voice activity: every tone is speaking.
    await peers[0].peer.waitFor(
      () =>
        peers.every((p) => h.voice.some((v) => v.ref.sessionId === p.ref.sessionId && v.speaking)),
      5000,
      'voice on for everyone',
    );
    await h.sfu.closeCall(callId);
    expect(h.sfu.hasSession(peers[0].ref.sessionId)).toBe(false);
    expect(h.sfu.stats()).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
    peers.forEach(({ peer }) => peer.close());
  });

  it('a late joiner receives the speakers; a leaver is renegotiated away and its mid reused', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await waitHearing(a, [660]);
    await waitHearing(b, [440]);

    const c = await h.join(callId, { name: 'late' }, (p) => p.addTone(880));
    await waitHearing(c, [440, 660]);
    await waitHearing(a, [660, 880]);

    const bMidOnA = a.peer.receiving('audio').map((t) => t.mid);
    await h.leave(b);
    // The others get a server offer that turns B's section inactive.
    await a.peer.waitFor(() => a.peer.receiving('audio').length === 1, 10_000, 'B removed on A');
    await c.peer.waitFor(() => c.peer.receiving('audio').length === 1, 10_000, 'B removed on C');
    a.peer.resetAudio();
    c.peer.resetAudio();
    await waitHearing(a, [880]);
    await waitHearing(c, [440]);
    const lastOfferToA = sdpTransform.parse(h.descriptions(a, 'offer').at(-1) ?? '');
    expect(lastOfferToA.media.some((m) => m.direction === 'inactive' && m.port !== 0)).toBe(true);

    // The next participant's track reuses the freed section (same mid) instead of adding one.
    const sectionsBefore = a.peer.pc.getTransceivers().length;
    const d = await h.join(callId, { name: 'd' }, (p) => p.addTone(1100));
    await waitHearing(a, [880, 1100]);
    expect(a.peer.pc.getTransceivers()).toHaveLength(sectionsBefore);
    expect(bMidOnA).toEqual(expect.arrayContaining(a.peer.receiving('audio').map((t) => t.mid)));
    for (const p of [a, c, d]) expect(p.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [a, c, d].forEach(({ peer }) => peer.close());
  });

  it('screen share: the others decode video frames of the sharer', async () => {
    const callId = `call-${randomUUID()}`;
    const sharer = await h.join(callId, { name: 'sharer' }, (p) => p.addTone(440));
    const v1 = await h.join(callId, { name: 'viewer1' });
    const v2 = await h.join(callId, { name: 'viewer2' });
    await Promise.all([sharer, v1, v2].map(({ peer }) => peer.waitConnected()));
    // Mattermost order: screen_on (with the MediaStream id) first, then the track and its offer.
    const { streamId } = sharer.peer.addVideo({ width: 320, height: 240, fps: 15 });
    await h.sfu.setScreenStream(sharer.ref.sessionId, streamId);
    for (const viewer of [v1, v2]) {
      await viewer.peer.waitFor(
        () => viewer.peer.videoFrames().some((v) => v.frames >= 20),
        20_000,
        'decoded screen frames',
      );
      const offer = h.descriptions(viewer, 'offer').at(-1) ?? '';
      expect(offer).toContain(
        `a=msid:screen_${sharer.ref.sessionId} screen_${sharer.ref.sessionId}_`,
      );
      console.log(
        `[media] ${viewer.peer.name} decoded ${JSON.stringify(viewer.peer.videoFrames())}`,
      );
    }
    // The sharer does not receive its own screen.
    expect(sharer.peer.receiving('video')).toHaveLength(0);
    await h.sfu.closeCall(callId);
    [sharer, v1, v2].forEach(({ peer }) => peer.close());
  });

  it("screen share to a viewer that numbered its microphone first (Chrome's ids: 4 = mid)", async () => {
    const callId = `call-${randomUUID()}`;
    const sharer = await h.join(callId, { name: 'sharer' });
    const viewer = await h.join(callId, { name: 'viewer' });
    await Promise.all([sharer, viewer].map(({ peer }) => peer.waitConnected()));
    // The viewer's microphone is a new section numbered by the browser (ssrc-audio-level 1,
    // abs-send-time 2, transport-cc 3, mid 4) before the server offers anything.
    viewer.peer.addTone(440);
    await waitHearing(sharer, [440]);
    // mediasoup writes abs-send-time under 4 into every video packet it forwards: the answer
    // leaves the client's MID out (Chrome would drop each packet for its unknown "MID").
    const micAnswer = h.descriptions(viewer, 'answer').at(-1) ?? '';
    const mic = sdpTransform.parse(micAnswer).media.find((m) => m.type === 'audio');
    expect(mic?.ext?.map((e) => `${e.value} ${e.uri}`)).toEqual([
      '1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
      '2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      '3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    ]);
    const { streamId } = sharer.peer.addVideo({ width: 320, height: 240, fps: 15 });
    await h.sfu.setScreenStream(sharer.ref.sessionId, streamId);
    await viewer.peer.waitFor(
      () => viewer.peer.videoFrames().some((v) => v.frames >= 20),
      20_000,
      'decoded screen frames',
    );
    expect(viewer.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [sharer, viewer].forEach(({ peer }) => peer.close());
  });

  it('simulcast screen share (rids l/h): the server accepts both rids and the viewer decodes video', async () => {
    const callId = `call-${randomUUID()}`;
    const sharer = await h.join(callId, { name: 'simulcaster' });
    const viewer = await h.join(callId, { name: 'viewer' });
    await Promise.all([sharer, viewer].map(({ peer }) => peer.waitConnected()));
    const { streamId } = sharer.peer.addVideo({
      width: 640,
      height: 360,
      fps: 15,
      simulcast: true,
    });
    await h.sfu.setScreenStream(sharer.ref.sessionId, streamId);
    await viewer.peer.waitFor(
      () => viewer.peer.videoFrames().some((v) => v.frames >= 20),
      20_000,
      'decoded simulcast frames',
    );
    const answer = sdpTransform.parse(h.descriptions(sharer, 'answer').at(-1) ?? '');
    const video = answer.media.find((m) => m.type === 'video');
    expect(video?.simulcast).toMatchObject({ dir1: 'recv', list1: 'l;h' });
    expect(video?.rids?.map((r) => `${r.id} ${r.direction}`)).toEqual(['l recv', 'h recv']);
    await h.sfu.closeCall(callId);
    [sharer, viewer].forEach(({ peer }) => peer.close());
  });

  it('mute pauses forwarding and reports voice off; unmute resumes it', async () => {
    const callId = `call-${randomUUID()}`;
    const speaker = await h.join(callId, { name: 'speaker' }, (p) => p.addTone(660));
    const listener = await h.join(callId, { name: 'listener' });
    await waitHearing(listener, [660]);
    await listener.peer.waitFor(
      () => h.voice.some((v) => v.ref.sessionId === speaker.ref.sessionId && v.speaking),
      5000,
      'voice on',
    );

    await h.sfu.setAudioMuted(speaker.ref.sessionId, true);
    const mutedAt = Date.now();
    expect(h.voice.filter((v) => v.ref.sessionId === speaker.ref.sessionId).at(-1)?.speaking).toBe(
      false,
    );
    await new Promise((r) => setTimeout(r, 600));
    listener.peer.resetAudio();
    await new Promise((r) => setTimeout(r, 700));
    // Nothing (or only silence/comfort noise) arrives while muted.
    const whileMuted = listener.peer.heardTones(ALL, 0);
    expect(whileMuted.every((t) => t.power < 1e-4)).toBe(true);
    expect(
      h.voice.some(
        (v) => v.ref.sessionId === speaker.ref.sessionId && v.speaking && v.at > mutedAt,
      ),
    ).toBe(false);

    await h.sfu.setAudioMuted(speaker.ref.sessionId, false);
    listener.peer.resetAudio();
    await waitHearing(listener, [660]);
    await h.sfu.closeCall(callId);
    [speaker, listener].forEach(({ peer }) => peer.close());
  });

  it('Mattermost flow: data channel first, ping/pong on calls-dc, microphone added later', async () => {
    const callId = `call-${randomUUID()}`;
    const other = await h.join(callId, { name: 'other' }, (p) => p.addTone(880));
    // No tracks: the first offer has only m=application (RTCPeer creates calls-dc at once).
    const mm = await h.join(callId, { name: 'mm' });
    await mm.peer.waitConnected();
    const firstOffer = h.signals.find((s) => s.ref.sessionId === mm.ref.sessionId);
    expect(firstOffer?.signal.type).toBe('answer');
    expect(sdpTransform.parse(h.descriptions(mm, 'answer')[0]).media.map((m) => m.type)).toEqual([
      'application',
    ]);

    const text = await mm.peer.dataChannelRoundTrip('ping');
    expect(text.reply).toBe('pong');
    // Newer clients: flat msgpack DCMessageType.Ping (1) gets Pong (2).
    const binary = await mm.peer.dataChannelRoundTrip(new Uint8Array([0x01]));
    expect([...new Uint8Array(binary.reply as ArrayBuffer)]).toEqual([0x02]);
    console.log(
      `[media] calls-dc RTT text=${text.rttMs.toFixed(1)}ms msgpack=${binary.rttMs.toFixed(1)}ms`,
    );

    // The server offered the other's voice; the mic (addTrack) reuses that transceiver.
    await waitHearing(mm, [880]);
    mm.peer.addTone(440);
    await waitHearing(other, [440]);
    expect(mm.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [other, mm].forEach(({ peer }) => peer.close());
  });
});
