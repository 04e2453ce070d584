import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { testRedisUrl } from '@app/calls/testing';
import { buildWebClient } from '../src/web/build-web-client';
import {
  CallsPage,
  growth,
  inboundAudio,
  inboundVideo,
  launchChromium,
  measure,
  outboundAudio,
  outboundVideo,
} from './browser/calls-browser';
import { TestHostApp } from './support/host-app';
import { TcpProxy } from './support/tcp-proxy';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const CLIENT_DIR = join(__dirname, '..', 'src', 'web', 'client');
/** README's screenshot, and the hash of the page's sources it was made from. */
const README_SHOT = join(__dirname, '..', 'docs', 'calls-page.png');
const README_SHOT_SOURCES = join(__dirname, '..', 'docs', 'calls-page.png.sources');
/** `npm run screenshot` sets it: this run refreshes README's screenshot. */
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';
const WINDOW_MS = 2000;
/** Opus sends 50 packets/s; a forwarded stream must show most of them in a measuring window. */
const FLOWING = 40;
/** A stopped stream may still show a few packets that were in flight when the window started. */
const STOPPED = 5;
/** The page samples its statistics every 2 s. */
const QUALITY_INTERVAL_MS = 2000;

/** sha256 of the page's sources (src/web/client), which README's screenshot shows. */
async function clientSourcesHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(CLIENT_DIR)).sort()) {
    hash
      .update(`${name}\0`)
      .update(await readFile(join(CLIENT_DIR, name)))
      .update('\0');
  }
  return hash.digest('hex');
}
/**
 * The calls page in real headless Chromium against the real host app (signaling, mediasoup SFU):
 * three people join, talk, share a screen, mute, reconnect and leave.
 */
describe('calls page in a real browser', () => {
  const channel = `web-${randomBytes(4).toString('hex')}`;
  let host: TestHostApp;
  /** Bob's way to the server: a TCP proxy the tests can cut (the server side drops his socket). */
  let bobsLine: TcpProxy;
  let browser: Browser;
  let alice: CallsPage;
  let bob: CallsPage;
  let carol: CallsPage;
  const pages = (): CallsPage[] => [alice, bob, carol].filter(Boolean);

  beforeAll(async () => {
    const webDir = join(ARTIFACTS, 'web');
    await mkdir(ARTIFACTS, { recursive: true });
    await buildWebClient(webDir);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_REDIS_URL: testRedisUrl(),
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      DEMO_ADMINS: 'Admin',
      DEMO_WEB_DIR: webDir,
    });
    bobsLine = await TcpProxy.start(Number(new URL(host.url).port));
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    // What the pages showed and logged when something went wrong, for the test output.
    for (const p of pages()) {
      const banner = await p.errorBanner().catch(() => null);
      const errors = p.logs.filter((l) => l.startsWith('[error]') || l.startsWith('[pageerror]'));
      if (banner !== null || errors.length > 0) {
        console.log(
          `${p.name}: state ${await p.state().catch(() => '?')}, error banner: ${banner}\n${errors.join('\n')}`,
        );
      }
      p.logs.splice(0);
    }
  });

  afterAll(async () => {
    await Promise.all(pages().map((p) => p.close().catch(() => undefined)));
    await browser?.close();
    await bobsLine?.close();
    await host?.close();
  });

  it('serves the page and its script', async () => {
    const index = await host.http.get('/').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.text).toContain('<script src="app.js"');
    await host.http
      .get('/app.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    await host.http.get('/app.css').expect(200).expect('Content-Type', /css/);
  });

  it("README's screenshot shows the current page", async () => {
    const hash = await clientSourcesHash();
    if (UPDATE_SCREENSHOT) return; // made below, in the three-person call
    const recorded = await readFile(README_SHOT_SOURCES, 'utf8').catch(() => '');
    if (recorded.trim() !== hash) {
      throw new Error(
        'src/web/client changed since docs/calls-page.png was made: run `npm run screenshot` and commit docs/',
      );
    }
  });

  it('shows refusals in an error banner', async () => {
    const page = await CallsPage.open(browser, host.url, 'Mallory');
    try {
      await page.page.fill('#name-input', 'Mallory');
      await page.page.fill('#channel-input', 'private-board');
      await page.page.click('#join-btn');
      await page.page.locator('#error-banner').waitFor({ state: 'visible' });
      expect(await page.errorBanner()).toMatch(/Could not join: .+/);
      expect(await page.page.locator('#join-view').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('choosing LiveKit on a server whose LiveKit endpoint is off says so', async () => {
    // This host has no RUSTCHAT_CALLS_LIVEKIT_KEYS (test/calls-page-protocols… joins with LiveKit).
    const page = await CallsPage.open(browser, host.url, 'Lena');
    try {
      await page.page.fill('#name-input', 'Lena');
      await page.page.fill('#channel-input', channel);
      await page.page.locator('.protocol-switch label', { hasText: 'LiveKit' }).click();
      await page.page.click('#join-btn');
      await page.page.locator('#error-banner').waitFor({ state: 'visible' });
      expect(await page.errorBanner()).toMatch(/LiveKit endpoint is off/);
      expect(await page.state()).toBe('idle');
      expect(await page.page.locator('#join-view').isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('two people join the same channel and hear each other', async () => {
    alice = await CallsPage.open(browser, host.url, 'Alice');
    bob = await CallsPage.open(browser, `http://127.0.0.1:${bobsLine.port}`, 'Bob');
    await alice.join(channel);
    await bob.join(channel);
    const [a, b] = [await alice.sessionId(), await bob.sessionId()];
    for (const p of [alice, bob]) {
      const rows = await p.waitForParticipants((r) => r.length === 2);
      expect(rows.map((r) => r.session).sort()).toEqual([a, b].sort());
      expect(rows.map((r) => r.text).join(' ')).toMatch(/Alice.*Bob|Bob.*Alice/);
    }

    // Both unmute at the same moment: each microphone offer may cross the server's offer of the
    // other's voice (test/sfu-glare.browser.e2e-spec.ts makes every such crossing happen).
    await Promise.all([alice.page.click('#mute-btn'), bob.page.click('#mute-btn')]);
    await alice.waitForParticipants((r) => r.every((row) => !row.muted));
    await bob.waitForParticipants((r) => r.every((row) => !row.muted));
    await alice.page.waitForTimeout(1000);

    for (const p of [alice, bob]) {
      const { before, after } = await measure(p, WINDOW_MS);
      const received = growth(before, after, inboundAudio, 'packetsReceived');
      console.log(`${p.name} inbound audio packets in ${WINDOW_MS} ms: ${received.join(', ')}`);
      expect(received).toHaveLength(1);
      expect(received[0]).toBeGreaterThan(FLOWING);
      expect(await p.errorBanner()).toBeNull();
    }
    // Voice activity: the fake microphone's beeps make the other one "speaking" (user_voice_on).
    await bob.waitForSpeakingSeen(a);
    await alice.waitForSpeakingSeen(b);
  }, 60_000);

  it("each row's connection quality comes from the page's real statistics", async () => {
    const [a, b] = [await alice.sessionId(), await bob.sessionId()];
    // Two samples: the second one measures an interval.
    await bob.page.waitForTimeout(2 * QUALITY_INTERVAL_MS + 500);
    const rows = await bob.waitForParticipants((r) =>
      r.every((row) => row.quality !== null && row.quality.level !== 'unknown'),
    );
    const ofAlice = rows.find((r) => r.session === a)?.quality;
    const own = rows.find((r) => r.session === b)?.quality;
    console.log(`Bob sees Alice ${JSON.stringify(ofAlice)}; himself ${JSON.stringify(own)}`);
    // Alice's voice as Bob receives it: a loss and a jitter, and the packet count of that very
    // stream in Bob's getStats() (taken at the page's last sample, at most one interval ago).
    expect(ofAlice).toMatchObject({ level: expect.stringMatching(/good|fair|poor/) });
    expect(ofAlice?.loss).toEqual(expect.any(Number));
    expect(ofAlice?.jitterMs).toEqual(expect.any(Number));
    const received = (await bob.rtp()).filter(inboundAudio).map((s) => s.packetsReceived);
    const shown = ofAlice?.packets ?? -1;
    expect(
      received.some((n) => shown > 0 && shown <= n && n - shown < (QUALITY_INTERVAL_MS / 20) * 2),
    ).toBe(true);
    // Bob himself: his voice as the server reports it, and the round trip of his path.
    expect(own?.rttMs).toEqual(expect.any(Number));
    expect(own?.packets).toBeGreaterThan(0);
    expect(own?.title).toMatch(/Connection (good|fair|poor)/);
  }, 30_000);

  it('the microphone and the speaker are chosen from the devices the browser lists', async () => {
    // Chromium's fake devices: three microphones and three speakers.
    const mics = await alice.options('#mic-select');
    const speakers = await alice.options('#speaker-select');
    expect(mics.map(([, label]) => label)).toEqual(
      expect.arrayContaining(['Fake Audio Input 1', 'Fake Audio Input 2']),
    );
    expect(speakers.map(([, label]) => label)).toEqual(
      expect.arrayContaining(['Fake Audio Output 1', 'Fake Audio Output 2']),
    );

    const [micId] = mics.find(([, label]) => label === 'Fake Audio Input 2') ?? [''];
    await alice.page.selectOption('#mic-select', micId);
    await alice.page.waitForFunction(
      (id) =>
        (globalThis as unknown as { __calls: { microphone: { deviceId: string } | null } }).__calls
          .microphone?.deviceId === id,
      micId,
    );
    expect(await alice.microphone()).toMatchObject({ label: 'Fake Audio Input 2' });
    // The new microphone replaced the old one in the same sender: Bob still hears Alice.
    await alice.page.waitForTimeout(500);
    const { before, after } = await measure(bob, WINDOW_MS);
    const fromAlice = growth(before, after, inboundAudio, 'packetsReceived');
    expect(Math.max(...fromAlice)).toBeGreaterThan(FLOWING);

    const [speakerId] = speakers.find(([, label]) => label === 'Fake Audio Output 1') ?? [''];
    await alice.page.selectOption('#speaker-select', speakerId);
    await alice.page.waitForFunction((id) => {
      const sinks = (globalThis as unknown as { __calls: { speakers: string[] } }).__calls.speakers;
      return sinks.length > 0 && sinks.every((s) => s === id);
    }, speakerId);
    // Remembered for the next call.
    const stored = await alice.page.evaluate(() =>
      (
        globalThis as unknown as { localStorage: { getItem(k: string): string | null } }
      ).localStorage.getItem('calls.speaker'),
    );
    expect(stored).toBe(speakerId);
    expect(await alice.errorBanner()).toBeNull();
  }, 30_000);

  it("shows the call's link to share, and copies it", async () => {
    const link = `${host.url}/?channel=${channel}`;
    expect(await alice.page.inputValue('#call-link')).toBe(link);
    expect(alice.page.url()).toBe(link);
    // (Granting replaces the context's permissions: the microphone's too, or Chromium ends it.)
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write', 'microphone']);
    await alice.page.click('#copy-link-btn');
    await alice.page.locator('#copy-link-btn', { hasText: 'Copied' }).waitFor();
    const copied = await alice.page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    expect(copied).toBe(link);
    // The link opens the form on that channel.
    const guest = await CallsPage.open(browser, link, 'Guest');
    try {
      expect(await guest.page.inputValue('#channel-input')).toBe(channel);
    } finally {
      await guest.close();
    }
  }, 30_000);

  it('a third person shares a screen; the others decode its frames', async () => {
    carol = await CallsPage.open(browser, host.url, 'Carol');
    try {
      await carol.join(channel);
      const c = await carol.sessionId();
      await carol.page.click('#screen-btn');
      await carol.page.locator('#screen-btn[data-on="true"]').waitFor();
      // Carol's browser sends the screen (so a failure below is on the forwarding side).
      await carol.page.waitForTimeout(1000);
      const sending = await measure(carol, WINDOW_MS);
      const encoded = growth(sending.before, sending.after, outboundVideo, 'framesEncoded');
      const sent = growth(sending.before, sending.after, outboundVideo, 'packetsSent');
      console.log(
        `Carol screen frames encoded in ${WINDOW_MS} ms: ${encoded.join(', ')} (packets sent ${sent.join(', ')}; ${JSON.stringify(sending.after.filter(outboundVideo))})`,
      );
      expect(Math.max(...encoded)).toBeGreaterThan(5);

      for (const p of [alice, bob]) {
        await p.waitForParticipants(
          (r) => r.length === 3 && r.some((row) => row.session === c && row.screen),
        );
        await p.waitForVideoPicture().catch(async (err: Error) => {
          const sender = (await carol.rtp()).filter(outboundVideo);
          throw new Error(`${err.message}\nCarol's outbound video: ${JSON.stringify(sender)}`);
        });
        const { before, after } = await measure(p, WINDOW_MS);
        const frames = growth(before, after, inboundVideo, 'framesDecoded');
        const packets = growth(before, after, inboundVideo, 'packetsReceived');
        console.log(
          `${p.name} screen frames decoded in ${WINDOW_MS} ms: ${frames.join(', ')} (packets ${packets.join(', ')})`,
        );
        expect(Math.max(...frames)).toBeGreaterThan(5);
      }
      await carol.waitForParticipants((r) => r.length === 3);
      for (const p of pages()) expect(await p.errorBanner()).toBeNull();
    } finally {
      // The three-person call as Alice sees it (also when something above failed), once the
      // quality of Carol's connection was measured too; README shows it.
      await alice.page.waitForTimeout(QUALITY_INTERVAL_MS + 500);
      const shot = join(ARTIFACTS, 'calls-page.png');
      await alice.page.screenshot({ path: shot });
      console.log(`screenshot: ${shot}`);
      if (UPDATE_SCREENSHOT) {
        await mkdir(join(README_SHOT, '..'), { recursive: true });
        await copyFile(shot, README_SHOT);
        await writeFile(README_SHOT_SOURCES, `${await clientSourcesHash()}\n`);
        console.log(`README screenshot updated: ${README_SHOT}`);
      }
    }
  }, 60_000);

  it('mute: the others see it, and the server stops forwarding the muted voice', async () => {
    const a = await alice.sessionId();
    const aliceMuted = (muted: boolean) => (rows: Awaited<ReturnType<CallsPage['participants']>>) =>
      rows.some((r) => r.session === a && r.muted === muted);

    // The server's own pause: only the mute action, the browser keeps sending.
    await alice.action('mute');
    await bob.waitForParticipants(aliceMuted(true));
    await carol.waitForParticipants(aliceMuted(true));
    await bob.page.waitForTimeout(500);
    const [bobWindow, carolWindow, aliceWindow] = await Promise.all([
      measure(bob, WINDOW_MS),
      measure(carol, WINDOW_MS),
      measure(alice, WINDOW_MS),
    ]);
    const sent = growth(aliceWindow.before, aliceWindow.after, outboundAudio, 'packetsSent');
    const bobGot = growth(bobWindow.before, bobWindow.after, inboundAudio, 'packetsReceived');
    const carolGot = growth(carolWindow.before, carolWindow.after, inboundAudio, 'packetsReceived');
    console.log(
      `server-side mute: Alice sent ${sent.join(', ')}; Bob got ${bobGot.join(', ')}; Carol got ${carolGot.join(', ')}`,
    );
    expect(Math.max(...sent)).toBeGreaterThan(FLOWING);
    expect(bobGot.every((n) => n <= STOPPED)).toBe(true);
    // Carol still hears Bob, not Alice.
    expect(carolGot.filter((n) => n > FLOWING)).toHaveLength(1);
    // Nothing arrives from Alice: Bob's page has nothing to grade her connection by.
    await bob.waitForParticipants(
      (r) => r.some((row) => row.session === a && row.quality?.level === 'unknown'),
      3 * QUALITY_INTERVAL_MS,
    );

    await alice.action('unmute');
    await bob.waitForParticipants(aliceMuted(false));
    await bob.page.waitForTimeout(500);
    const resumed = await measure(bob, WINDOW_MS);
    const bobAgain = growth(resumed.before, resumed.after, inboundAudio, 'packetsReceived');
    console.log(`after unmute: Bob got ${bobAgain.join(', ')}`);
    expect(Math.max(...bobAgain)).toBeGreaterThan(FLOWING);

    // The page's Mute button: the track is replaced by nothing and the server is told.
    await alice.page.click('#mute-btn');
    await alice.page.locator('#mute-btn[data-on="false"]').waitFor();
    await bob.waitForParticipants(aliceMuted(true));
    await carol.waitForParticipants(aliceMuted(true));
    await bob.page.waitForTimeout(500);
    const muted = await measure(bob, WINDOW_MS);
    const bobMuted = growth(muted.before, muted.after, inboundAudio, 'packetsReceived');
    console.log(`after the Mute button: Bob got ${bobMuted.join(', ')}`);
    expect(bobMuted.every((n) => n <= STOPPED)).toBe(true);
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 60_000);

  it('a dropped socket reconnects by itself with the same session', async () => {
    const b = await bob.sessionId();
    const shown = (await bob.states()).length;
    await bob.dropConnection();
    await bob.waitForState('connected', 15_000);
    expect(await bob.sessionId()).toBe(b);
    expect((await bob.states()).slice(shown)).toContain('reconnecting');
    await bob.page.waitForTimeout(1500);
    // Still in the call for the others, and still talking.
    const rows = await carol.participants();
    expect(rows.map((r) => r.session)).toContain(b);
    const { before, after } = await measure(carol, WINDOW_MS);
    const fromBob = growth(before, after, inboundAudio, 'packetsReceived');
    expect(Math.max(...fromBob)).toBeGreaterThan(FLOWING);
    // Actions work on the new connection.
    await bob.page.click('#hand-btn');
    await alice.waitForParticipants((r) => r.some((row) => row.session === b && row.hand));
    expect(await bob.errorBanner()).toBeNull();
  }, 60_000);

  it('while the server is unreachable the page says it is reconnecting, and stops saying so once back', async () => {
    const b = await bob.sessionId();
    const banner = bob.page.locator('#reconnect-banner');
    expect(await banner.isVisible()).toBe(false);
    // The server side of Bob's connection goes away, and stays away for a while.
    bobsLine.cut();
    await banner.waitFor({ state: 'visible', timeout: 5000 });
    expect(await bob.state()).toBe('reconnecting');
    expect(await banner.getAttribute('data-trouble')).toBe('server');
    expect(await banner.textContent()).toMatch(/Reconnecting to the server/);
    expect(await bob.page.textContent('#conn-state')).toBe('Reconnecting…');
    await bob.page.waitForTimeout(2000);
    await bob.page.screenshot({ path: join(ARTIFACTS, 'calls-page-reconnecting.png') });
    expect(await banner.isVisible()).toBe(true);

    bobsLine.restore();
    await bob.waitForState('connected', 15_000);
    await banner.waitFor({ state: 'hidden', timeout: 5000 });
    expect(await bob.sessionId()).toBe(b);
    expect(await bob.page.textContent('#conn-state')).toBe('Connected');
    // Still in the call: an action goes through on the new connection.
    await bob.page.click('#reactions button[data-reaction="tada"]');
    await alice.waitForParticipants((r) =>
      r.some((row) => row.session === b && row.text.includes('🎉')),
    );
    expect(await bob.errorBanner()).toBeNull();
  }, 60_000);

  it('the host sees host controls and can lower a hand', async () => {
    const b = await bob.sessionId();
    await alice.page.locator('#host-bar').waitFor({ state: 'visible' });
    expect(await bob.page.locator('#host-bar').isVisible()).toBe(false);
    await alice.page.click(`#participants button[data-action="lower-hand"][data-session="${b}"]`);
    await bob.waitForParticipants((r) => r.some((row) => row.session === b && !row.hand));
    await bob.page.locator('#notice-banner').waitFor({ state: 'visible' });
  }, 30_000);

  it('everyone leaves: the call ends', async () => {
    const { token } = await host.login('Alice');
    for (const p of [carol, bob, alice]) {
      await p.page.click('#leave-btn');
      await p.waitForState('idle');
      expect(await p.page.locator('#join-view').isVisible()).toBe(true);
      expect(await p.errorBanner()).toBeNull();
    }
    const res = await host.http
      .get(`/plugins/com.mattermost.calls/calls/${channel}/active`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.body).toEqual({ active: false });
  }, 30_000);
});
