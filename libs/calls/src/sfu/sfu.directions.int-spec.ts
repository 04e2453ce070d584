import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  MediaOfferTrack,
  MediaSessionRef,
  MediaSignal,
  MediaTrack,
} from '../media/media-plane.interface';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

const TONES = [440, 660, 880] as const;

/** LiveKit's naming of a subscribed track: stream `<participant>|<track>`, track `<track>`. */
const livekitLabel = (t: MediaTrack) => ({
  streamId: `PA_${t.sessionId}|TR_${t.clientTrackId}`,
  trackId: `TR_${t.clientTrackId}`,
});

/** The tone frequencies a peer hears on its currently receiving audio tracks, sorted. */
function heard({ peer }: HarnessPeer): number[] {
  return peer
    .heardTones([...TONES], 0.5)
    .map((t) => t.frequencyHz)
    .sort((a, b) => a - b);
}

async function waitHearing(p: HarnessPeer, expected: number[]): Promise<void> {
  await p.peer.waitFor(
    () => JSON.stringify(heard(p)) === JSON.stringify(expected),
    15_000,
    `hearing ${expected.join(',')} (hears ${heard(p).join(',') || 'nothing'})`,
  );
}

/** The `a=msid` value of every m-section of an SDP that has one, by mid. */
function msids(sdp: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const msid = /^a=msid:(.+?)\r?$/m.exec(section)?.[1];
    if (mid && msid) out.set(mid, msid);
  }
  return out;
}

describe('SfuService publish-only and subscribe-only sessions (two connections per participant)', () => {
  let h: SfuHarness;
  const events: { event: string; args: unknown[] }[] = [];
  const offers: {
    ref: MediaSessionRef;
    tracks?: readonly MediaOfferTrack[];
    signal?: MediaSignal;
  }[] = [];

  beforeAll(async () => {
    h = await SfuHarness.start();
    h.listen({
      trackAdded: (...args) => events.push({ event: 'added', args }),
      trackRemoved: (...args) => events.push({ event: 'removed', args }),
      trackPaused: (...args) => events.push({ event: 'paused', args }),
      offerTracks: (ref, tracks) => offers.push({ ref, tracks }),
      signal: (ref, signal) => {
        if (signal.type === 'offer') offers.push({ ref, signal });
      },
    });
  });

  afterAll(async () => {
    await h.close();
  });

  /** A participant as a LiveKit client makes it: a publish and a subscribe connection. */
  async function participant(
    callId: string,
    name: string,
    hz: number | null,
  ): Promise<{ pub: HarnessPeer; sub: HarnessPeer; cid: string | null }> {
    const sessionId = `${name}-${randomUUID().slice(0, 8)}`;
    const sub = await h.join(callId, {
      name: `${name}-sub`,
      userId: name,
      sessionId: `${sessionId}:sub`,
      dataChannel: false,
      session: { direction: 'subscribe', ownerSessionId: sessionId, consumerLabel: livekitLabel },
    });
    let cid: string | null = null;
    const pub = await h.join(
      callId,
      { name, sessionId, dataChannel: false, session: { direction: 'publish' } },
      (p) => {
        if (hz !== null) cid = p.addTone(hz).track?.id ?? null;
      },
    );
    return { pub, sub, cid };
  }

  it('a subscriber receives the other participants\u2019 published audio, named as it asks', async () => {
    const callId = `call-${randomUUID()}`;
    const alice = await participant(callId, 'alice', TONES[0]);
    // No track to receive yet for alice's subscriber besides her own: it is offered nothing.
    await sleep(500);
    expect(h.descriptions(alice.sub)).toEqual([]);
    const bob = await participant(callId, 'bob', TONES[1]);

    await waitHearing(bob.sub, [TONES[0]]);
    await waitHearing(alice.sub, [TONES[1]]);
    for (const p of [alice.sub, bob.sub]) {
      const rtp = await p.peer.inboundRtp();
      expect(rtp.filter((s) => s.kind === 'audio' && s.packets > 0)).toHaveLength(1);
    }

    // tracksOf: both participants' microphones, attributed to their publish sessions.
    const tracks = h.sfu.tracksOf(callId);
    const aliceTrack = tracks.find((t) => t.sessionId === alice.pub.ref.sessionId);
    const bobTrack = tracks.find((t) => t.sessionId === bob.pub.ref.sessionId);
    expect(tracks).toHaveLength(2);
    expect(aliceTrack).toMatchObject({
      callId,
      userId: 'alice',
      kind: 'audio',
      type: 'voice',
      clientTrackId: alice.cid,
      paused: false,
    });
    expect(bobTrack).toMatchObject({ userId: 'bob', clientTrackId: bob.cid });
    expect(events.filter((e) => e.event === 'added' && e.args[0] === callId)).toHaveLength(2);

    // The subscriber's offer names the consumer as it asked, and the offer's tracks map its mid.
    const offer = h.descriptions(bob.sub, 'offer').at(-1) ?? '';
    const named = [...msids(offer).entries()];
    expect(named).toEqual([
      [expect.any(String), `PA_${alice.pub.ref.sessionId}|TR_${alice.cid} TR_${alice.cid}`],
    ]);
    const toBob = offers.filter((o) => o.ref.sessionId === bob.sub.ref.sessionId);
    const lastTracks = toBob.filter((o) => o.tracks).at(-1)?.tracks;
    expect(lastTracks).toEqual([{ mid: named[0][0], producerId: aliceTrack?.producerId }]);
    // The client never offers here, so the server numbers the header extensions itself.
    expect(offer).toContain('a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid');
    // Right before its offer signal, and the signal itself is only `{ type, sdp }`.
    const lastOfferIndex = toBob.map((o) => !!o.signal).lastIndexOf(true);
    expect(toBob[lastOfferIndex - 1].tracks).toBe(lastTracks);
    expect(Object.keys(toBob[lastOfferIndex].signal ?? {})).toEqual(['type', 'sdp']);

    // Each subscriber gets only the other participant's track, never its own.
    for (const [p, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const mapped = offers
        .filter((o) => o.ref.sessionId === p.sub.ref.sessionId && o.tracks)
        .flatMap((o) => o.tracks ?? []);
      const own = tracks.find((t) => t.sessionId === p.pub.ref.sessionId);
      const theirs = tracks.find((t) => t.sessionId === other.pub.ref.sessionId);
      expect(mapped.some((t) => t.producerId === own?.producerId)).toBe(false);
      expect(mapped.some((t) => t.producerId === theirs?.producerId)).toBe(true);
      expect(p.sub.peer.receiving('audio')).toHaveLength(1);
    }
    // Publishers are never offered anything and receive nothing.
    for (const p of [alice.pub, bob.pub]) {
      expect(h.descriptions(p, 'offer')).toEqual([]);
      expect(h.descriptions(p, 'answer').length).toBeGreaterThan(0);
      expect(p.peer.receiving('audio')).toHaveLength(0);
    }
    expect(h.sfu.stats()).toMatchObject({ transports: 4, producers: 2, consumers: 2 });

    // Per-track pause by client track id: reported, listed, and undone.
    const aliceProducer = aliceTrack?.producerId ?? '';
    await h.sfu.setTrackPaused(alice.pub.ref.sessionId, alice.cid ?? '', true);
    expect(events).toContainEqual({ event: 'paused', args: [callId, aliceProducer, true] });
    expect(h.sfu.tracksOf(callId).find((t) => t.producerId === aliceProducer)?.paused).toBe(true);
    await h.sfu.setTrackPaused(alice.pub.ref.sessionId, aliceProducer, false);
    expect(events).toContainEqual({ event: 'paused', args: [callId, aliceProducer, false] });

    // Alice leaves (both connections): her track ends, bob's subscriber is offered it inactive.
    const offersToBob = h.descriptions(bob.sub, 'offer').length;
    await h.leave(alice.pub);
    await h.leave(alice.sub);
    expect(events).toContainEqual({ event: 'removed', args: [callId, aliceProducer] });
    expect(h.sfu.tracksOf(callId).map((t) => t.producerId)).toEqual([bobTrack?.producerId]);
    await bob.sub.peer.waitFor(
      () => bob.sub.peer.receiving('audio').length === 0,
      10_000,
      "alice's section inactive",
    );
    expect(h.descriptions(bob.sub, 'offer').length).toBeGreaterThan(offersToBob);
    expect(offers.filter((o) => o.ref.sessionId === bob.sub.ref.sessionId).at(-2)?.tracks).toEqual(
      [],
    );
    for (const p of [alice, bob]) {
      expect(p.pub.peer.errors).toEqual([]);
      expect(p.sub.peer.errors).toEqual([]);
    }
    await h.sfu.closeCall(callId);
    expect(events).toContainEqual({ event: 'removed', args: [callId, bobTrack?.producerId] });
    [bob.pub, bob.sub].forEach(({ peer }) => peer.close());
  });

  it('simulcast video of a publisher is decoded by a subscriber', async () => {
    const callId = `call-${randomUUID()}`;
    const viewer = await participant(callId, 'viewer', null);
    const sharer = await participant(callId, 'sharer', null);
    const video = sharer.pub.peer.addVideo({ width: 640, height: 360, fps: 15, simulcast: true });
    // A camera (its MediaStream named): forwarded.
    await h.sfu.setCameraStream(sharer.pub.ref.sessionId, video.streamId);
    await viewer.sub.peer.waitFor(
      () => viewer.sub.peer.videoFrames().some((v) => v.frames >= 20),
      20_000,
      'decoded frames',
    );
    const [track] = h.sfu.tracksOf(callId);
    expect(track).toMatchObject({
      kind: 'video',
      sessionId: sharer.pub.ref.sessionId,
      clientTrackId: video.sender.track?.id,
      streamId: video.streamId,
    });
    expect(sharer.sub.peer.videoFrames()).toEqual([]);
    for (const p of [viewer, sharer]) expect(p.sub.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [viewer, sharer].forEach((p) => [p.pub, p.sub].forEach(({ peer }) => peer.close()));
  });

  it('a subscriber session refuses a client offer that sends media', async () => {
    const callId = `call-${randomUUID()}`;
    const p = await h.join(
      callId,
      { name: 'sender', dataChannel: false, session: { direction: 'subscribe' } },
      (peer) => peer.addTone(TONES[2]),
    );
    await p.peer.waitFor(() => false, 3000, 'an error').catch(() => undefined);
    expect(p.peer.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('a subscribe-only session takes no client media'),
    ]);
    expect(h.descriptions(p)).toEqual([]);
    expect(h.sfu.tracksOf(callId)).toEqual([]);
    await h.sfu.closeCall(callId);
    p.peer.close();
  });

  it('a Mattermost session (direction both) and a subscriber in the same call', async () => {
    const callId = `call-${randomUUID()}`;
    const mm = await h.join(callId, { name: 'mm' }, (p) => p.addTone(TONES[0]));
    const lk = await participant(callId, 'lk', TONES[1]);
    await waitHearing(lk.sub, [TONES[0]]);
    await waitHearing(mm, [TONES[1]]);
    // The Mattermost session's consumer keeps the default naming; its offers stay `{ type, sdp }`.
    const offer = h.descriptions(mm, 'offer').at(-1) ?? '';
    const named = [...msids(offer).values()];
    expect(named).toEqual([
      expect.stringMatching(
        new RegExp(`^voice_${lk.pub.ref.sessionId} voice_${lk.pub.ref.sessionId}_[0-9a-f]{8}$`),
      ),
    ]);
    const toMm = offers.filter((o) => o.ref.sessionId === mm.ref.sessionId && o.signal);
    expect(toMm.length).toBeGreaterThan(0);
    for (const o of toMm) expect(Object.keys(o.signal ?? {})).toEqual(['type', 'sdp']);
    // The offer's consumers are still reported beside it, for protocols that need them.
    expect(offers.some((o) => o.ref.sessionId === mm.ref.sessionId && o.tracks?.length === 1)).toBe(
      true,
    );
    await h.sfu.closeCall(callId);
    [mm, lk.pub, lk.sub].forEach(({ peer }) => peer.close());
  });

  // Last: it kills the harness's media worker (the pool replaces it).
  it('after a worker death a subscriber moves on, a publisher is closed (worker-died)', async () => {
    const callId = `call-${randomUUID()}`;
    const mm = await h.join(callId, { name: 'mm' }, (p) => p.addTone(TONES[0]));
    const lk = await participant(callId, 'lk', TONES[1]);
    await waitHearing(lk.sub, [TONES[0]]);
    const before = h.sfu.tracksOf(callId).map((t) => t.producerId);
    const offersBefore = h.descriptions(lk.sub, 'offer').length;

    process.kill(h.sfu.callWorkerPid(callId) ?? 0, 'SIGKILL');
    await lk.sub.peer.waitFor(
      () => h.closed.some((c) => c.ref.sessionId === lk.pub.ref.sessionId),
      20_000,
      'the publisher closed',
    );
    expect(h.closed.find((c) => c.ref.sessionId === lk.pub.ref.sessionId)?.reason).toBe(
      'worker-died',
    );
    lk.sub.peer.resetAudio();
    await waitHearing(lk.sub, [TONES[0]]);
    expect(h.descriptions(lk.sub, 'offer').length).toBeGreaterThan(offersBefore);
    expect(h.closed.map((c) => c.ref.sessionId)).toEqual([lk.pub.ref.sessionId]);

    // The old tracks ended; Mattermost's microphone is back as a new producer, same client track.
    for (const producerId of before) {
      expect(events).toContainEqual({ event: 'removed', args: [callId, producerId] });
    }
    const after = h.sfu.tracksOf(callId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ sessionId: mm.ref.sessionId, kind: 'audio' });
    expect(before).not.toContain(after[0].producerId);
    expect(events).toContainEqual({ event: 'added', args: [callId, after[0]] });
    expect(lk.sub.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [mm, lk.pub, lk.sub].forEach(({ peer }) => peer.close());
  });
});
