import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildWebClient } from '../src/web/build-web-client';
import {
  CallsPage,
  growth,
  inboundAudio,
  inboundVideo,
  launchChromium,
  measure,
  type ParticipantRow,
} from './browser/calls-browser';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import { TestHostApp } from './support/host-app';
import { TcpProxy } from './support/tcp-proxy';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const WINDOW_MS = 2000;
/** Opus sends 50 packets/s; a forwarded stream must show most of them in a measuring window. */
const FLOWING = 40;
/** The page samples its statistics every 2 s. */
const QUALITY_INTERVAL_MS = 2000;

/**
 * The calls page's protocol switch: two tabs of the real page in headless Chromium, one joined
 * with Mattermost's protocol (socket.io), one with LiveKit's (livekit-client, token from the
 * plugin's `livekit-token` route), share one call on the real host app and SFU.
 */
describe('calls page: one call, two protocols', () => {
  const channel = `mix-${randomBytes(4).toString('hex')}`;
  let host: TestHostApp;
  let browser: Browser;
  /** Bob's way to the server: a TCP proxy the tests can cut (his LiveKit URL comes through it too). */
  let bobsLine: TcpProxy;
  /** Alice joins with Mattermost's protocol, Bob with LiveKit's. */
  let alice: CallsPage;
  let bob: CallsPage;
  let a = '';
  let b = '';
  const voiceEvents: string[] = [];
  const tracksAdded: string[] = [];
  const pages = (): CallsPage[] => [alice, bob].filter(Boolean);
  const row = (rows: ParticipantRow[], session: string) => rows.find((r) => r.session === session);

  beforeAll(async () => {
    const webDir = join(ARTIFACTS, 'web-protocols');
    await mkdir(ARTIFACTS, { recursive: true });
    await buildWebClient(webDir);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `page:${randomBytes(24).toString('hex')}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      DEMO_WEB_DIR: webDir,
    });
    // Voice activity as the server's media plane reports it, for the failure messages.
    host.app.get(SfuService).subscribe({
      signal: () => undefined,
      sessionClosed: () => undefined,
      voice: (ref, speaking) => voiceEvents.push(`${ref.sessionId}:${speaking ? 'on' : 'off'}`),
      trackAdded: (_call, t) =>
        tracksAdded.push(`${t.sessionId}:${t.type}:${t.kind}:${t.producerId.slice(0, 8)}`),
    });
    bobsLine = await TcpProxy.start(Number(new URL(host.url).port));
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    // What the pages showed and logged when something went wrong, for the test output.
    for (const p of pages()) await p.reportProblems();
  });

  afterAll(async () => {
    await Promise.all(pages().map((p) => p.close().catch(() => undefined)));
    await browser?.close();
    await bobsLine?.close();
    await host?.close();
  });

  it('the form has a protocol switch, Mattermost by default, and remembers the choice', async () => {
    const page = await CallsPage.open(browser, host.url, 'Carol');
    try {
      const chosen = () =>
        page.page.locator('input[name="protocol"]:checked').getAttribute('value');
      expect(await chosen()).toBe('mattermost');
      await page.page.locator('.protocol-switch label', { hasText: 'LiveKit' }).click();
      await page.page.reload();
      expect(await chosen()).toBe('livekit');
      await page.page.screenshot({ path: join(ARTIFACTS, 'calls-page-join.png') });
      // `?protocol=` in the address wins over the remembered choice.
      await page.page.goto(`${host.url}/?protocol=mattermost`);
      expect(await chosen()).toBe('mattermost');
    } finally {
      await page.close();
    }
  });

  it('a Mattermost tab and a LiveKit tab join one call and see each other', async () => {
    alice = await CallsPage.open(browser, host.url, 'Alice');
    bob = await CallsPage.open(browser, `http://127.0.0.1:${bobsLine.port}`, 'Bob');
    await alice.join(channel, 'mattermost');
    await bob.join(channel, 'livekit');
    expect(await alice.protocol()).toBe('mattermost');
    expect(await bob.protocol()).toBe('livekit');
    expect(await bob.page.textContent('#protocol-label')).toBe('via LiveKit');
    [a, b] = [await alice.sessionId(), await bob.sessionId()];
    expect(a).not.toBe('');
    expect(b).not.toBe('');
    for (const p of [alice, bob]) {
      const rows = await p.waitForParticipants((r) => r.length === 2 && r.every((x) => x.text));
      expect(rows.map((r) => r.session).sort()).toEqual([a, b].sort());
      // Names from the page server, by user id: the same on both protocols.
      await p.waitForParticipants((r) => /Alice/.test(row(r, a)?.text ?? ''));
      await p.waitForParticipants((r) => /Bob/.test(row(r, b)?.text ?? ''));
      // Alice joined first: the host, on both pages.
      await p.waitForParticipants((r) => row(r, a)?.host === true && row(r, b)?.host === false);
      expect(rows.every((r) => r.muted)).toBe(true);
    }
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 60_000);

  it('both unmute and each hears the other', async () => {
    await Promise.all([alice.page.click('#mute-btn'), bob.page.click('#mute-btn')]);
    for (const p of [alice, bob]) {
      await p.page.locator('#mute-btn[data-on="true"]').waitFor();
      await p.waitForParticipants((r) => r.length === 2 && r.every((x) => !x.muted));
    }
    await alice.page.waitForTimeout(1000);
    for (const p of [alice, bob]) {
      const { before, after } = await measure(p, WINDOW_MS);
      const packets = growth(before, after, inboundAudio, 'packetsReceived');
      const energy = growth(before, after, inboundAudio, 'totalAudioEnergy');
      console.log(
        `${p.name} (${await p.protocol()}) inbound audio in ${WINDOW_MS} ms: packets ${packets.join(', ')}, energy ${energy.map((e) => e.toExponential(2)).join(', ')}`,
      );
      // One voice, the other's, flowing and played out with sound in it.
      expect(packets.filter((n) => n > FLOWING)).toHaveLength(1);
      expect(Math.max(...energy)).toBeGreaterThan(0);
      expect(await p.errorBanner()).toBeNull();
    }
    // Voice activity crosses protocols too: the fake microphones' beeps make each one "speaking".
    const speaking = async (viewer: CallsPage, session: string) => {
      try {
        await viewer.waitForSpeakingSeen(session);
      } catch (err) {
        throw new Error(
          `${viewer.name} never saw ${session} speaking: ${(err as Error).message}\nserver voice events: ${voiceEvents.join(' ')}\ntracks: ${tracksAdded.join(' ')}`,
        );
      }
    };
    await speaking(alice, b);
    await speaking(bob, a);

    // The LiveKit page grades connections from its own statistics, as the Mattermost page does:
    // Alice's voice as Bob receives it, and his own voice and round trip.
    const rows = await bob.waitForParticipants(
      (r) => r.every((x) => x.quality !== null && x.quality.level !== 'unknown'),
      3 * QUALITY_INTERVAL_MS,
    );
    const ofAlice = row(rows, a)?.quality;
    const own = row(rows, b)?.quality;
    console.log(`Bob sees Alice ${JSON.stringify(ofAlice)}; himself ${JSON.stringify(own)}`);
    expect(ofAlice?.loss).toEqual(expect.any(Number));
    expect(ofAlice?.jitterMs).toEqual(expect.any(Number));
    expect(ofAlice?.packets).toBeGreaterThan(FLOWING);
    expect(own?.rttMs).toEqual(expect.any(Number));
    expect(own?.packets).toBeGreaterThan(FLOWING);
  }, 60_000);

  it('the LiveKit tab switches microphones; Alice still hears it', async () => {
    const mics = await bob.options('#mic-select');
    const [micId] = mics.find(([, label]) => label === 'Fake Audio Input 2') ?? [''];
    expect(micId).not.toBe('');
    await bob.page.selectOption('#mic-select', micId);
    await bob.page.waitForFunction(
      (id) =>
        (globalThis as unknown as { __calls: { microphone: { deviceId: string } | null } }).__calls
          .microphone?.deviceId === id,
      micId,
    );
    expect(await bob.microphone()).toMatchObject({ label: 'Fake Audio Input 2' });
    await alice.page.waitForTimeout(500);
    const { before, after } = await measure(alice, WINDOW_MS);
    expect(Math.max(...growth(before, after, inboundAudio, 'packetsReceived'))).toBeGreaterThan(
      FLOWING,
    );
    expect(await bob.errorBanner()).toBeNull();
  }, 30_000);

  it("the LiveKit tab's connection drops: it says so, then is back in the call as the same session", async () => {
    const banner = bob.page.locator('#reconnect-banner');
    // The server side of Bob's signal connection goes away, and stays away for a while.
    bobsLine.cut();
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await bob.state()).toBe('reconnecting');
    await bob.page.waitForTimeout(1000);
    bobsLine.restore();
    await bob.waitForState('connected', 30_000);
    await banner.waitFor({ state: 'hidden' });
    expect(await bob.sessionId()).toBe(b);
    // Back in the call: both listed, unmuted, and each hears the other again.
    for (const p of [alice, bob]) {
      await p.waitForParticipants((r) => r.length === 2 && r.every((x) => !x.muted), 15_000);
    }
    for (const p of [alice, bob]) {
      let packets = 0;
      for (let i = 0; i < 10 && packets <= FLOWING; i++) {
        const { before, after } = await measure(p, WINDOW_MS);
        packets = Math.max(0, ...growth(before, after, inboundAudio, 'packetsReceived'));
      }
      console.log(`${p.name} after Bob's reconnect: ${packets} packets in ${WINDOW_MS} ms`);
      expect(packets).toBeGreaterThan(FLOWING);
    }
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 90_000);

  it('a raised hand shows on the other protocol, both ways; the host lowers it', async () => {
    await bob.page.click('#hand-btn');
    await bob.page.locator('#hand-btn[data-on="true"]').waitFor();
    await alice.waitForParticipants((r) => row(r, b)?.hand === true);
    await alice.page.click('#hand-btn');
    await bob.waitForParticipants((r) => row(r, a)?.hand === true);

    // Alice, the host, lowers Bob's hand: his LiveKit page shows it down and says why.
    await alice.page.click(`#participants button[data-action="lower-hand"][data-session="${b}"]`);
    await bob.waitForParticipants((r) => row(r, b)?.hand === false);
    await bob.page.locator('#notice-banner', { hasText: 'lowered your hand' }).waitFor();
    await bob.page.locator('#hand-btn[data-on="false"]').waitFor();
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 30_000);

  it("the LiveKit tab's screen share is shown on the Mattermost tab", async () => {
    await bob.page.click('#screen-btn');
    await bob.page.locator('#screen-btn[data-on="true"]').waitFor();
    await bob.page.locator('#screen-area[data-active="true"]').waitFor();
    await alice.waitForParticipants((r) => row(r, b)?.screen === true);
    await alice.waitForVideoPicture();
    // Bob's LiveKit page, sharing (its own preview on the stage).
    await bob.page.screenshot({ path: join(ARTIFACTS, 'calls-page-livekit.png') });
    // The encoder starts slowly (a few frames in its first second), as on the Mattermost path.
    await alice.page.waitForTimeout(1000);
    const { before, after } = await measure(alice, WINDOW_MS);
    const frames = growth(before, after, inboundVideo, 'framesDecoded');
    console.log(`Alice decoded Bob's screen: ${frames.join(', ')} frames in ${WINDOW_MS} ms`);
    expect(Math.max(...frames)).toBeGreaterThan(5);

    await bob.page.click('#screen-btn');
    await alice.waitForParticipants((r) => row(r, b)?.screen === false);
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 30_000);

  it('the LiveKit tab leaves: the Mattermost tab sees it go', async () => {
    await bob.page.click('#leave-btn');
    await bob.waitForState('idle');
    expect(await bob.page.locator('#join-view').isVisible()).toBe(true);
    await alice.waitForParticipants((r) => r.length === 1 && r[0]?.session === a);
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 30_000);
});
