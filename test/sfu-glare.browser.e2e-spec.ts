import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { SfuHarness } from '@app/calls/testing';
import { BrowserPeer, bundleCallsPeer } from './browser/browser-peer';
import { growth, launchChromium, type RtpStat } from './browser/calls-browser';

/**
 * Packets per second that show a stream flowing: Opus sends 50; a screen of a page that does not
 * change is captured at a few frames per second (6 packets/s seen on a loaded VM), at least a
 * packet each. A stream that stopped sends none.
 */
const MIN_PACKETS_PER_SECOND: Record<string, number> = { audio: 10, video: 2 };

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Glare with real Chromium, made to happen every time: Bob's offer for a new stream (microphone
 * or screen) crosses the server's offer of Alice's new stream; Bob (the polite peer) rolls his
 * back and answers, the server drops the offer it parked and Bob offers again. Chrome numbers
 * RTP header extensions its own way and keeps the numbering of every mid it ever offered, even
 * rolled back; mediasoup writes the router's ids into what it forwards. Neither the crossing nor
 * what it leaves in Chrome may break the page's connection or lose a stream, now or later.
 */
describe('SFU glare with Chromium (SfuService driven directly)', () => {
  let harness: SfuHarness;
  let browser: Browser;
  let script: string;

  beforeAll(async () => {
    [harness, browser, script] = await Promise.all([
      SfuHarness.start(),
      launchChromium(),
      bundleCallsPeer(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
    await browser?.close();
  });

  const join = async (callId: string, name: string): Promise<BrowserPeer> => {
    const { client } = await harness.open(callId, name, (ref) =>
      BrowserPeer.open(browser, script, harness.sfu, ref),
    );
    return client;
  };

  const report = async (peers: BrowserPeer[]): Promise<string> => {
    const lines: string[] = [];
    for (const p of peers) {
      lines.push(`${p.ref.userId}: problems ${JSON.stringify(await p.problems())}`);
      lines.push(...p.logs.filter((l) => !l.startsWith('[debug]')).slice(-10));
    }
    return lines.join('\n');
  };

  type Action = 'unmute' | 'share';
  const act = (peer: BrowserPeer, action: Action) =>
    action === 'unmute' ? peer.unmute() : peer.shareScreen();
  const kindOf = (action: Action) => (action === 'unmute' ? 'audio' : 'video');

  /** Waits until `peer` receives a flowing `kind` stream (packets growing over 1 s). */
  const receiving = async (peer: BrowserPeer, kind: string, peers: BrowserPeer[]) => {
    let last: number[] = [];
    try {
      await waitFor(
        `${peer.ref.userId} receiving ${kind}`,
        async () => {
          const before = await peer.rtp();
          await new Promise((r) => setTimeout(r, 1000));
          const pick = (st: RtpStat) => st.type === 'inbound-rtp' && st.kind === kind;
          last = growth(before, await peer.rtp(), pick, 'packetsReceived');
          return last.some((n) => n > MIN_PACKETS_PER_SECOND[kind]);
        },
        15_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; got ${last.join(',')}\n${await report(peers)}`);
    }
  };

  it.each<[Action, Action]>([
    ['unmute', 'unmute'],
    ['share', 'unmute'],
    ['unmute', 'share'],
    ['share', 'share'],
  ])(
    "Alice's %s makes the server offer to Bob while Bob's %s offer crosses it",
    async (aliceDoes, bobDoes) => {
      const callId = `glare-${randomBytes(3).toString('hex')}`;
      const alice = await join(callId, 'alice');
      const bob = await join(callId, 'bob');
      const peers = [alice, bob];
      await waitFor('both answered', () =>
        peers.every((p) => harness.descriptions(p, 'answer').length > 0),
      );

      // Alice's new stream: the server offers it to Bob, who does not see that offer yet.
      harness.hold(bob);
      const offersToBob = harness.descriptions(bob, 'offer').length;
      await act(alice, aliceDoes);
      await waitFor(
        'a server offer to Bob',
        () => harness.descriptions(bob, 'offer').length > offersToBob,
      );
      // Bob's own new stream meanwhile: his offer reaches the server while its offer is pending,
      // then the server's offer reaches Bob while his is pending.
      await act(bob, bobDoes);
      await waitFor(
        'Bob offering',
        async () => (await bob.signalingState()) === 'have-local-offer',
      );
      await new Promise((r) => setTimeout(r, 300));
      await harness.release(bob);

      await receiving(bob, kindOf(aliceDoes), peers);
      await receiving(alice, kindOf(bobDoes), peers);
      // Whatever the crossing left behind in Chrome must not spoil later media: a screen from
      // Alice (mediasoup forwards video with its own extension ids) still reaches Bob.
      if (aliceDoes !== 'share') {
        await alice.shareScreen();
        await receiving(bob, 'video', peers);
      }
      expect(await alice.problems()).toEqual([]);
      expect(await bob.problems()).toEqual([]);
      expect(harness.closed).toEqual([]);
      await Promise.all(peers.map((p) => harness.leave(p)));
    },
    60_000,
  );
});
