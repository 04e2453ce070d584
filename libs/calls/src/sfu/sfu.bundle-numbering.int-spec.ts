import { randomUUID } from 'node:crypto';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import * as sdpTransform from 'sdp-transform';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';
import { WrtcTestPeer } from '../testing/wrtc-test-peer';
import type { MediaSessionRef, MediaSignal } from '../media/media-plane.interface';

jest.setTimeout(60_000);

const ALL = [440, 550, 660, 880];
const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

function heard({ peer }: HarnessPeer): number[] {
  return peer
    .heardTones(ALL, 0.5)
    .map((t) => t.frequencyHz)
    .sort((a, b) => a - b);
}

async function waitHearing(p: HarnessPeer, expected: number[], timeoutMs = 15_000): Promise<void> {
  const want = [...expected].sort((a, b) => a - b);
  await p.peer.waitFor(
    () => JSON.stringify(heard(p)) === JSON.stringify(want),
    timeoutMs,
    `hearing ${want.join(',')} (hears ${heard(p).join(',') || 'nothing'})`,
  );
}

/**
 * Extension ids, extension URIs and payload types that mean two things across the bundled
 * sections of the given descriptions (one BUNDLE group: every id and payload type one meaning).
 */
function clashes(...sdps: (string | undefined)[]): string[] {
  const byId = new Map<number, Set<string>>();
  const byUri = new Map<string, Set<number>>();
  const byPt = new Map<number, Set<string>>();
  const add = <K, V>(map: Map<K, Set<V>>, key: K, value: V) =>
    map.set(key, (map.get(key) ?? new Set<V>()).add(value));
  for (const sdp of sdps) {
    for (const m of sdpTransform.parse(sdp ?? '').media) {
      if (m.port === 0) continue;
      for (const e of m.ext ?? []) {
        add(byId, e.value, e.uri);
        add(byUri, e.uri, e.value);
      }
      for (const r of m.rtp) {
        const apt = m.fmtp.find((f) => f.payload === r.payload && f.config.includes('apt='));
        const rtx = r.codec.toLowerCase() === 'rtx' ? `/${apt?.config}` : '';
        add(byPt, r.payload, `${m.type}/${r.codec}/${r.rate}${rtx}`.toLowerCase());
      }
    }
  }
  const twice = <K, V>(map: Map<K, Set<V>>, what: string) =>
    [...map]
      .filter(([, s]) => s.size > 1)
      .map(([k, s]) => `${what} ${String(k)}: ${[...s].join(' | ')}`);
  return [...twice(byId, 'id'), ...twice(byUri, 'uri'), ...twice(byPt, 'payload type')];
}

/** The `a=extmap` lines of a description's section. */
function extensions(sdp: string | undefined, mid: string): { id: number; uri: string }[] {
  const section = sdpTransform.parse(sdp ?? '').media.find((m) => String(m.mid) === mid);
  return (section?.ext ?? []).map((e) => ({ id: e.value, uri: e.uri }));
}

/** What a client sees of its BUNDLE group: its own description and the server's. */
function clientView({ peer }: HarnessPeer): string[] {
  return clashes(peer.pc.localDescription?.sdp, peer.pc.remoteDescription?.sdp);
}

describe('SfuService BUNDLE numbering (header extension ids and payload types)', () => {
  let h: SfuHarness;
  /** Called when mediasoup creates a consumer on a transport of the given session. */
  let onConsumer: ((sessionId: string, consumer: ms.Consumer) => void) | null = null;
  const watchWorker = (worker: ms.Worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) =>
        transport.observer.on('newconsumer', (consumer) =>
          onConsumer?.(String((transport.appData as { sessionId?: string }).sessionId), consumer),
        ),
      ),
    );

  beforeAll(async () => {
    mediasoup.observer.on('newworker', watchWorker);
    h = await SfuHarness.start({ rtcWorkers: 1, signalingTimeoutMs: 1500 });
  });

  afterAll(async () => {
    mediasoup.observer.off('newworker', watchWorker);
    await h.close();
  });

  it('the client numbers first (a new audio section, Chrome ids), then a consumer section, then more client offers', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' });
    await a.peer.waitConnected();
    // The microphone arrives as a NEW section with Chrome's ids before any consumer section.
    a.peer.addTone(440);
    await a.peer.waitFor(() => h.descriptions(a, 'answer').length === 2, 10_000, 'mic answer');
    // Chrome's ids but its MID (4): mediasoup writes abs-send-time under 4 into forwarded video.
    expect(extensions(h.descriptions(a, 'answer')[1], '1').map((e) => e.id)).toEqual([1, 2, 3]);

    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await waitHearing(a, [660]);
    await waitHearing(b, [440]);
    const offer = h.descriptions(a, 'offer')[0];
    expect(clashes(offer)).toEqual([]);
    expect(clientView(a)).toEqual([]);
    // Each of the router's audio extensions clashes with Chrome's ids (1 mid, 4 abs-send-time,
    // 10 audio level) or is one the client did not list for audio (13, 14; the latter used to
    // slip in through the router's video entries): the consumer carries none (a=ssrc demuxes it).
    expect(extensions(offer, 's1')).toEqual([]);
    expect(offer).toMatch(/a=mid:s1[^]*a=ssrc:\d+ cname:/);

    // More local offers: a second track, then an ICE restart.
    a.peer.addTone(550);
    await waitHearing(b, [440, 550]);
    const answers = h.descriptions(a, 'answer').length;
    a.peer.negotiate({ iceRestart: true });
    await a.peer.waitFor(
      () => h.descriptions(a, 'answer').length > answers,
      10_000,
      'ICE restart answer',
    );
    a.peer.resetAudio();
    b.peer.resetAudio();
    await waitHearing(a, [660]);
    await waitHearing(b, [440, 550]);

    for (const sdp of h.descriptions(a)) expect(clashes(sdp)).toEqual([]);
    expect(clientView(a)).toEqual([]);
    expect(a.peer.errors).toEqual([]);
    expect(b.peer.errors).toEqual([]);
    expect(h.closed).toEqual([]);
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });

  it("a consumer made before the client's numbering and offered after it fits that numbering (the stock client's race)", async () => {
    const callId = `call-${randomUUID()}`;
    const ref: MediaSessionRef = {
      callId,
      sessionId: `a-${randomUUID().slice(0, 8)}`,
      userId: 'a',
    };
    await h.sfu.openSession(ref);
    // A's offers go through the test, which holds its microphone offer back...
    let holding = false;
    let held: { type: 'offer' | 'answer'; sdp: string } | null = null;
    const failures: unknown[] = [];
    const peer = await WrtcTestPeer.create(
      {
        sendDescription: (d) => {
          if (holding && d.type === 'offer') {
            held = d;
            return Promise.resolve();
          }
          return h.sfu.handleDescription(ref.sessionId, d);
        },
        sendCandidate: (c) => h.sfu.addIceCandidate(ref.sessionId, c),
      },
      { name: 'a' },
    );
    const a: HarnessPeer = { ref, peer };
    const deliver = (r: MediaSessionRef, signal: MediaSignal) => {
      if (r.sessionId === ref.sessionId) void peer.handleSignal(signal);
    };
    const stopDelivering = h.listen({ signal: deliver });
    try {
      await peer.waitConnected();
      holding = true;
      peer.addTone(440);
      await peer.waitFor(() => held !== null, 5000, 'microphone offer');
      // ...until mediasoup has made A's consumer of B's voice: the offer is then handled before
      // the server offer that carries the consumer (the consumer has the router's numbering).
      let early: ms.Consumer | null = null;
      onConsumer = (sessionId, consumer) => {
        if (sessionId !== ref.sessionId || early) return;
        early = consumer;
        const offer = held;
        holding = false;
        held = null;
        if (offer) h.sfu.handleDescription(ref.sessionId, offer).catch((e) => failures.push(e));
      };
      const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
      await waitHearing(a, [660]);
      await waitHearing(b, [440]);

      // The order of the stock client's failure: answer (data channel), answer (microphone,
      // Chrome's ids), then the offer of the consumer section.
      const order = h.signals.flatMap(({ ref: r, signal }) =>
        r.sessionId === ref.sessionId && (signal.type === 'offer' || signal.type === 'answer')
          ? [signal.type]
          : [],
      );
      expect(order.slice(0, 3)).toEqual(['answer', 'answer', 'offer']);
      expect(h.descriptions(a, 'offer')[0]).toContain('a=mid:s1');
      const offered = h.descriptions(a, 'offer')[0];
      expect(clashes(offered)).toEqual([]);
      expect(clientView(a)).toEqual([]);
      // Made before the client numbered anything, the consumer carries no router id (1 = mid
      // would have clashed with Chrome's audio level): it is offered as it is.
      const consumer = early as ms.Consumer | null;
      expect(consumer?.rtpParameters.headerExtensions).toEqual([]);
      expect(consumer?.closed).toBe(false);
      expect(offered).toContain(`a=ssrc:${consumer?.rtpParameters.encodings?.[0]?.ssrc} `);

      // The client's next local offers (the stock client failed the first one): a second track
      // and an ICE restart.
      peer.addTone(550);
      await waitHearing(b, [440, 550]);
      const answers = h.descriptions(a, 'answer').length;
      peer.negotiate({ iceRestart: true });
      await peer.waitFor(
        () => h.descriptions(a, 'answer').length > answers,
        10_000,
        'ICE restart answer',
      );
      peer.resetAudio();
      await waitHearing(a, [660]);
      for (const sdp of h.descriptions(a)) expect(clashes(sdp)).toEqual([]);
      expect(clientView(a)).toEqual([]);
      expect(peer.errors).toEqual([]);
      expect(b.peer.errors).toEqual([]);
      expect(failures).toEqual([]);
      expect(h.closed).toEqual([]);
      b.peer.close();
    } finally {
      onConsumer = null;
      stopDelivering();
      peer.close();
      await h.sfu.closeCall(callId);
    }
  });

  it("a server offer given up for the client's offer leaves the client's numbering whole", async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' });
    await a.peer.waitConnected();
    a.peer.ignoreNextOffers = 1;
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await a.peer.waitFor(() => h.descriptions(a, 'offer').length === 1, 10_000, 'ignored offer');
    // The ignored offer carried the consumer without a number the client had not used yet.
    expect(extensions(h.descriptions(a, 'offer')[0], 's1')).toEqual([]);
    // The microphone offer crosses it; the server gives its offer up after the timeout.
    a.peer.addTone(440);
    await waitHearing(b, [440], 20_000);
    await waitHearing(a, [660], 20_000);
    // The answer takes Chrome's ids (audio level too: voice activity needs it) but its MID (4,
    // abs-send-time in the packets mediasoup forwards)...
    const answer = h.descriptions(a, 'answer').find((sdp) => sdp.includes('a=mid:1'));
    expect(extensions(answer, '1').map((e) => e.id)).toEqual([1, 2, 3]);
    await a.peer.waitFor(
      () => h.voice.some((v) => v.ref.sessionId === a.ref.sessionId && v.speaking),
      10_000,
      'A reported speaking',
    );
    // ...and the consumer offered again does not use them for anything else.
    expect(extensions(h.descriptions(a, 'offer').at(-1), 's1')).not.toContainEqual(
      expect.objectContaining({ uri: AUDIO_LEVEL, id: 10 }),
    );
    for (const sdp of h.descriptions(a)) expect(clashes(sdp)).toEqual([]);
    expect(clientView(a)).toEqual([]);
    expect(a.peer.errors).toEqual([]);
    expect(h.closed).toEqual([]);
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });
});
