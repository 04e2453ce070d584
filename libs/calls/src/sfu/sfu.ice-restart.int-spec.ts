import { randomUUID } from 'node:crypto';
import * as sdpTransform from 'sdp-transform';
import { freePort } from '../testing/free-port';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';
import { UdpRelay } from '../testing/udp-relay';

jest.setTimeout(90_000);

const ALL = [440, 660];

function hears(p: HarnessPeer, hz: number): boolean {
  return p.peer.heardTones(ALL, 0.3).some((t) => t.frequencyHz === hz && t.power > 0.005);
}

function ufrag(sdp: string): string | undefined {
  const parsed = sdpTransform.parse(sdp);
  return parsed.media[0]?.iceUfrag ?? parsed.iceUfrag;
}

/**
 * Cuts a client's media path (a UDP relay that drops everything, signaling untouched), as when a
 * network drops: the server sees ICE consent expire (`disconnected`), restarts ICE with new
 * credentials in a server offer, and media flows again once the path is back. Single-port mode
 * (one WebRtcServer per worker, no TCP) so that the relay is the only path.
 */
describe('SfuService ICE restart after the client network path is cut', () => {
  let h: SfuHarness;
  let relay: UdpRelay;
  let udpPort: number;

  beforeAll(async () => {
    udpPort = await freePort();
    h = await SfuHarness.start({
      rtcWorkers: 1,
      udpPort,
      rtcEnableTcp: false,
      iceConsentTimeoutSec: 10,
      iceDisconnectGraceMs: 500,
      iceRestartBackoffMs: 1500,
      iceRestartMaxAttempts: 2,
    });
  });

  beforeEach(async () => {
    relay = await UdpRelay.start({ address: '127.0.0.1', port: udpPort });
  });

  afterEach(() => relay.close());

  afterAll(async () => {
    await h.close();
  });

  const joinThroughRelay = (callId: string, name: string, hz: number) =>
    h.join(
      callId,
      {
        name,
        rewriteRemoteSdp: (sdp) => relay.rewrite(sdp),
        rewriteRemoteCandidate: (line) => relay.rewriteCandidate(line),
      },
      (p) => p.addTone(hz),
    );

  it('restarts ICE from the server while the path is down; media resumes when it is back', async () => {
    const callId = `call-${randomUUID()}`;
    const restarts: string[] = [];
    h.listen({ iceRestart: (ref, initiator) => restarts.push(`${ref.sessionId}:${initiator}`) });
    const cut = await joinThroughRelay(callId, 'cut', 440);
    const other = await h.join(callId, { name: 'other' }, (p) => p.addTone(660));
    await other.peer.waitFor(() => hears(other, 440), 15_000, 'hearing the cut peer');
    await cut.peer.waitFor(() => hears(cut, 660), 15_000, 'the cut peer hearing');
    expect(relay.forwarded).toBeGreaterThan(0);
    const ufragBefore = ufrag(h.descriptions(cut).at(-1) ?? '');
    const offersBefore = h.descriptions(cut, 'offer').length;

    const cutAt = Date.now();
    relay.blocked = true;
    await cut.peer.waitFor(
      () =>
        h.signals.some(
          (s) =>
            s.ref.sessionId === cut.ref.sessionId &&
            s.signal.type === 'ice-state' &&
            s.signal.state === 'disconnected',
        ),
      20_000,
      'server ICE disconnected',
    );
    const disconnectedAfter = Date.now() - cutAt;
    await cut.peer.waitFor(
      () => h.descriptions(cut, 'offer').length > offersBefore,
      10_000,
      'restart offer',
    );
    const restartAfter = Date.now() - cutAt;
    const restartOffer = h.descriptions(cut, 'offer').at(-1) ?? '';
    expect(ufrag(restartOffer)).not.toEqual(ufragBefore);
    expect(restarts).toContain(`${cut.ref.sessionId}:server`);
    await new Promise((r) => setTimeout(r, 800));
    relay.blocked = false;
    const restoredAt = Date.now();

    other.peer.resetAudio();
    cut.peer.resetAudio();
    await other.peer.waitFor(() => hears(other, 440), 20_000, 'hearing the cut peer again');
    await cut.peer.waitFor(() => hears(cut, 660), 20_000, 'the cut peer hearing again');
    console.log(
      `[ice-restart] path cut: server disconnected after ${disconnectedAfter} ms, first restart offer after ${restartAfter} ms, ` +
        `media heard again ${Date.now() - restoredAt} ms after the path came back (${relay.dropped} packets dropped)`,
    );
    expect(h.closed).toEqual([]);
    expect(cut.peer.errors).toEqual([]);
    await h.sfu.closeCall(callId);
    [cut, other].forEach(({ peer }) => peer.close());
  });

  it('closes the session with ice-restart-exhausted when the path never comes back', async () => {
    const callId = `call-${randomUUID()}`;
    const cut = await joinThroughRelay(callId, 'gone', 440);
    await cut.peer.waitConnected();
    const cutAt = Date.now();
    relay.blocked = true;
    await cut.peer.waitFor(
      () => h.closed.some((c) => c.ref.sessionId === cut.ref.sessionId),
      30_000,
      'session-closed',
    );
    expect(h.closed.find((c) => c.ref.sessionId === cut.ref.sessionId)?.reason).toBe(
      'ice-restart-exhausted',
    );
    expect(h.sfu.hasSession(cut.ref.sessionId)).toBe(false);
    // 10 s consent + 0.5 s grace, then two restarts waiting 1.5 s and 3 s.
    console.log(`[ice-restart] gave up ${Date.now() - cutAt} ms after the cut`);
    cut.peer.close();
  });
});
