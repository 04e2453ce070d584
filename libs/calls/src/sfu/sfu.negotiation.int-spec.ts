import { randomUUID } from 'node:crypto';
import * as sdpTransform from 'sdp-transform';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { InvalidSdpError } from '../errors/invalid-sdp.error';
import { MessageTooLargeError } from '../errors/message-too-large.error';
import { NoCommonCodecError } from '../errors/no-common-codec.error';
import { SfuSessionNotFoundError } from '../errors/sfu-session-not-found.error';
import { UnexpectedSdpAnswerError } from '../errors/unexpected-sdp-answer.error';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';
import { WrtcTestPeer } from '../testing/wrtc-test-peer';

jest.setTimeout(60_000);

const ALL = [440, 550, 660, 880];

function heard({ peer }: HarnessPeer): number[] {
  return peer
    .heardTones(ALL, 0.5)
    .map((t) => t.frequencyHz)
    .sort((a, b) => a - b);
}

async function waitHearing(p: HarnessPeer, expected: number[], timeoutMs = 15_000): Promise<void> {
  await p.peer.waitFor(
    () => JSON.stringify(heard(p)) === JSON.stringify([...expected].sort((a, b) => a - b)),
    timeoutMs,
    `hearing ${expected.join(',')} (hears ${heard(p).join(',') || 'nothing'})`,
  );
}

/** ICE ufrag of a description. */
function ufrag(sdp: string): string | undefined {
  const parsed = sdpTransform.parse(sdp);
  return parsed.media[0]?.iceUfrag ?? parsed.iceUfrag;
}

/** A real Chrome (wrtc) offer with one audio track and calls-dc, never sent anywhere. */
async function realOffer(): Promise<string> {
  let resolve!: (sdp: string) => void;
  const offered = new Promise<string>((r) => (resolve = r));
  const peer = await WrtcTestPeer.create(
    {
      sendDescription: (d) => Promise.resolve(resolve(d.sdp)),
      sendCandidate: () => Promise.resolve(),
    },
    { name: 'offer-maker' },
  );
  peer.addTone(440);
  const sdp = await offered;
  peer.close();
  return sdp;
}

describe('SfuService negotiation with real WebRTC peers', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 1, signalingTimeoutMs: 1500 });
  });

  afterAll(async () => {
    await h.close();
  });

  it('glare: a client offer crossing a server offer waits; the polite client rolls back; both end up applied', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    await a.peer.waitConnected();
    h.hold(a);
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    // The server's offer to A (B's voice) is on its way but held back...
    await a.peer.waitFor(
      () => h.descriptions(a, 'offer').length === 1,
      10_000,
      'server offer to A',
    );
    // ...while A offers a second track: the offers cross.
    a.peer.addTone(550);
    await a.peer.waitFor(() => a.peer.pc.signalingState === 'have-local-offer', 5000, 'A offering');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.descriptions(a, 'answer')).toHaveLength(1); // the crossing offer was not answered
    await h.release(a);

    await waitHearing(a, [660]);
    await waitHearing(b, [440, 550]);
    // The crossing offer was dropped as rolled back, not answered late (A would get an answer
    // with no offer of its own pending); A's re-offer was answered.
    expect(a.peer.unexpectedAnswers).toBe(0);
    expect(h.descriptions(a, 'answer').length).toBeGreaterThanOrEqual(2);
    expect(a.peer.errors).toEqual([]);
    expect(b.peer.errors).toEqual([]);
    expect(h.closed).toEqual([]);
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });

  it('glare with an impolite client: the server gives its offer up after the timeout, answers, offers again', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    await a.peer.waitConnected();
    a.peer.ignoreNextOffers = 1;
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await a.peer.waitFor(
      () => h.descriptions(a, 'offer').length === 1,
      10_000,
      'ignored server offer',
    );
    a.peer.addTone(550);
    await waitHearing(b, [440, 550], 20_000);
    await waitHearing(a, [660], 20_000);
    expect(h.descriptions(a, 'offer').length).toBeGreaterThanOrEqual(2);
    expect(h.closed).toEqual([]);
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });

  it('a client that never answers a server offer is closed with signaling-timeout', async () => {
    const callId = `call-${randomUUID()}`;
    const mute = await h.join(callId, { name: 'mute' });
    await mute.peer.waitConnected();
    mute.peer.answerOffers = false;
    const talker = await h.join(callId, { name: 'talker' }, (p) => p.addTone(440));
    await talker.peer.waitFor(
      () => h.closed.some((c) => c.ref.sessionId === mute.ref.sessionId),
      10_000,
      'session-closed',
    );
    expect(h.closed.find((c) => c.ref.sessionId === mute.ref.sessionId)?.reason).toBe(
      'signaling-timeout',
    );
    expect(h.sfu.hasSession(mute.ref.sessionId)).toBe(false);
    expect(h.sfu.hasSession(talker.ref.sessionId)).toBe(true);
    await h.sfu.closeCall(callId);
    [mute, talker].forEach(({ peer }) => peer.close());
  });

  it('a client offer with new ICE credentials restarts ICE: new server credentials, media goes on', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await waitHearing(a, [660]);
    await waitHearing(b, [440]);
    const answers = h.descriptions(a, 'answer').length;
    const before = ufrag(h.descriptions(a).at(-1) ?? '');
    const restarts: string[] = [];
    h.listen({ iceRestart: (ref, initiator) => restarts.push(`${ref.sessionId}:${initiator}`) });
    const started = Date.now();
    a.peer.pc.restartIce();
    await a.peer.waitFor(
      () => h.descriptions(a, 'answer').length > answers,
      5000,
      'restart answer',
    );
    const after = ufrag(h.descriptions(a, 'answer').at(-1) ?? '');
    expect(after).toBeDefined();
    expect(after).not.toEqual(before);
    expect(restarts).toEqual([`${a.ref.sessionId}:client`]);
    a.peer.resetAudio();
    b.peer.resetAudio();
    await waitHearing(a, [660]);
    await waitHearing(b, [440]);
    console.log(
      `[negotiation] client ICE restart: media heard again after ${Date.now() - started} ms`,
    );
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });

  it('bad input gets named errors and leaves the session, the worker and other calls unharmed', async () => {
    const pids = h.sfu.workerPids();
    const callId = `call-${randomUUID()}`;
    const bystanders = [
      await h.join(`call-${randomUUID()}`, { name: 'x' }, (p) => p.addTone(440)),
      await h.join(`call-${randomUUID()}`, { name: 'y' }, (p) => p.addTone(660)),
    ];
    const ref = { callId, sessionId: `raw-${randomUUID()}`, userId: 'raw' };
    await h.sfu.openSession(ref);
    const offer = await realOffer();
    const send = (sdp: string, type: 'offer' | 'answer' = 'offer') =>
      h.sfu.handleDescription(ref.sessionId, { type, sdp });

    await expect(send('hello, I am not SDP')).rejects.toBeInstanceOf(InvalidSdpError);
    await expect(send(`v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\n`)).rejects.toThrow(
      'at least one m= line',
    );
    await expect(send(offer + 'a=x-padding:' + 'x'.repeat(70_000) + '\r\n')).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    await expect(send(offer.replace(/a=ice-ufrag:.*\r\n/g, ''))).rejects.toThrow(
      'missing a=ice-ufrag',
    );
    await expect(send(offer.replace(/a=fingerprint:.*\r\n/g, ''))).rejects.toThrow(
      'missing a=fingerprint',
    );
    await expect(send(offer.replace(/a=mid:.*\r\n/g, ''))).rejects.toThrow('has no a=mid');
    // Only G.722 offered for audio: no codec in common with the router.
    const onlyG722 = offer.replace(/^(m=audio \d+ [A-Z/]+) .*$/m, '$1 9');
    await expect(send(onlyG722)).rejects.toBeInstanceOf(NoCommonCodecError);
    await expect(send(offer, 'answer')).rejects.toThrow('must not use a=setup:actpass');
    const answerLike = offer.replace(/a=setup:actpass/g, 'a=setup:active');
    await expect(send(answerLike, 'answer')).rejects.toBeInstanceOf(UnexpectedSdpAnswerError);
    await expect(
      h.sfu.addIceCandidate(ref.sessionId, { candidate: 'candidate:garbage', sdpMid: '0' }),
    ).rejects.toBeInstanceOf(InvalidMessageError);
    // Candidates before the remote description are queued; the empty one is ignored.
    await h.sfu.addIceCandidate(ref.sessionId, {
      candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    await h.sfu.addIceCandidate(ref.sessionId, { candidate: '' });

    for (const call of [
      () => h.sfu.handleDescription('nobody', { type: 'offer', sdp: offer }),
      () => h.sfu.addIceCandidate('nobody', { candidate: '' }),
      () => h.sfu.setAudioMuted('nobody', true),
      () => h.sfu.setScreenStream('nobody', null),
      () => h.sfu.setCameraStream('nobody', 'stream'),
      () => h.sfu.setTrackPreference('nobody', 'producer', { disabled: true }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(SfuSessionNotFoundError);
    }

    // The session still takes a good offer and answers it.
    const answersBefore = h.signals.filter((s) => s.ref.sessionId === ref.sessionId).length;
    await send(offer);
    const answer = h.signals.slice(answersBefore).find((s) => s.ref.sessionId === ref.sessionId);
    expect(answer?.signal.type).toBe('answer');
    expect(h.sfu.workerPids()).toEqual(pids);
    for (const p of bystanders) {
      await p.peer.waitConnected();
      expect(p.peer.errors).toEqual([]);
    }
    await h.sfu.closeSession(ref.sessionId);
    for (const p of bystanders) await h.sfu.closeCall(p.ref.callId);
    bystanders.forEach(({ peer }) => peer.close());
  });
});
