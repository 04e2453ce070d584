import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

const ALL = [440, 660, 880];
const SIGNALING_TIMEOUT_MS = 3000;

function hears({ peer }: HarnessPeer, hz: number): boolean {
  return peer.heardTones(ALL, 0.3).some((t) => t.frequencyHz === hz && t.share > 0.8);
}

/**
 * A server offer sent while the client's signaling connection was going away is lost (socket.io
 * replays nothing). Told that the client reconnected, the SFU sends the unanswered offer again,
 * so the session is not closed at the answer timeout and gets the new track; a client that did
 * answer is not sent it twice.
 */
describe('SfuService: a server offer lost while the client reconnects', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 1, signalingTimeoutMs: SIGNALING_TIMEOUT_MS });
  });

  afterAll(async () => {
    await h.close();
  });

  /** A and B hear each other; A's signals are held; C joins (A's server offer is held). */
  async function offerWhileAway(): Promise<{ a: HarnessPeer; c: HarnessPeer }> {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await a.peer.waitFor(() => hears(a, 660), 15_000, 'a hearing b');
    await b.peer.waitFor(() => hears(b, 440), 15_000, 'b hearing a');
    const offers = h.descriptions(a, 'offer').length;
    h.hold(a);
    const c = await h.join(callId, { name: 'c' }, (p) => p.addTone(880));
    await a.peer.waitFor(
      () => h.descriptions(a, 'offer').length > offers,
      15_000,
      'the server offer for c',
    );
    return { a, c };
  }

  it('sends the unanswered offer again after the reconnect: the session stays and hears the newcomer', async () => {
    const { a } = await offerWhileAway();
    h.drop(a);
    const offers = h.descriptions(a, 'offer').length;
    h.sfu.clientReconnected(a.ref.sessionId);

    await a.peer.waitFor(() => hears(a, 880), 15_000, 'a hearing c after the reconnect');
    expect(h.descriptions(a, 'offer')).toHaveLength(offers + 1);
    // Past the answer timeout of the lost offer: the session is still open.
    await sleep(SIGNALING_TIMEOUT_MS);
    expect(h.closed.filter((c) => c.ref.sessionId === a.ref.sessionId)).toEqual([]);
    expect(h.sfu.hasSession(a.ref.sessionId)).toBe(true);
    expect(a.peer.errors).toEqual([]);
  });

  it('without a reconnect the unanswered offer still ends the session at the timeout', async () => {
    const { a } = await offerWhileAway();
    h.drop(a);
    await a.peer.waitFor(
      () => h.closed.some((c) => c.ref.sessionId === a.ref.sessionId),
      SIGNALING_TIMEOUT_MS + 10_000,
      'the session closed',
    );
    expect(h.closed.find((c) => c.ref.sessionId === a.ref.sessionId)?.reason).toBe(
      'signaling-timeout',
    );
  });

  it('does not send an offer the client answered again', async () => {
    const { a } = await offerWhileAway();
    await h.release(a);
    await a.peer.waitFor(() => hears(a, 880), 15_000, 'a hearing c');
    const offers = h.descriptions(a, 'offer').length;
    h.sfu.clientReconnected(a.ref.sessionId);
    await sleep(2000);
    expect(h.descriptions(a, 'offer')).toHaveLength(offers);
    expect(a.peer.errors).toEqual([]);
  });
});
