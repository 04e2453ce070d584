import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildWebClient } from '../src/web/build-web-client';
import { CallsPage, launchChromium, type VideoTile } from './browser/calls-browser';
import { TestHostApp } from './support/host-app';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
/** The call's camera limit on this host: the three tabs fill it. */
const MAX_CAMERAS = 3;

/** The tile of `session`. */
const tileOf = (tiles: VideoTile[], session: string) => tiles.find((t) => t.session === session);

/**
 * Cameras on the calls page: three tabs of the real page in headless Chromium (fake cameras),
 * two on Mattermost's protocol and one on LiveKit's, in one call on the real host app and SFU.
 * Each turns its camera on with the page's button; what each tab shows is read from its page (the
 * tiles' data attributes, their `<video>` elements' frames).
 */
describe('calls page: cameras, two protocols', () => {
  const channel = `cams-${randomBytes(4).toString('hex')}`;
  let host: TestHostApp;
  let webDir = '';
  let browser: Browser;
  /** Alice and Carol join with Mattermost's protocol, Bob with LiveKit's. */
  let alice: CallsPage;
  let bob: CallsPage;
  let carol: CallsPage;
  const ids = new Map<CallsPage, string>();
  const pages = (): CallsPage[] => [alice, bob, carol].filter(Boolean);
  const others = (p: CallsPage) => pages().filter((o) => o !== p);
  const id = (p: CallsPage) => ids.get(p) ?? '';

  /** Waits until `viewer` shows `whose` tile with frames still arriving in its `<video>`. */
  async function decodes(viewer: CallsPage, whose: CallsPage): Promise<VideoTile> {
    const first = await viewer.waitForTiles((t) => (tileOf(t, id(whose))?.width ?? 0) > 0, 15_000);
    const start = tileOf(first, id(whose))?.frames ?? 0;
    const now = await viewer.waitForTiles(
      (t) => (tileOf(t, id(whose))?.frames ?? 0) >= start + 5,
      10_000,
    );
    return tileOf(now, id(whose)) as VideoTile;
  }

  beforeAll(async () => {
    webDir = join(ARTIFACTS, 'web-video');
    await mkdir(ARTIFACTS, { recursive: true });
    await buildWebClient(webDir);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `page:${randomBytes(24).toString('hex')}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      RUSTCHAT_CALLS_MAX_CAMERAS: String(MAX_CAMERAS),
      DEMO_WEB_DIR: webDir,
    });
    browser = await launchChromium();
  }, 60_000);

  afterEach(async () => {
    // What the pages showed and logged when something went wrong, for the test output.
    for (const p of pages()) await p.reportProblems();
  });

  afterAll(async () => {
    await Promise.all(pages().map((p) => p.close().catch(() => undefined)));
    await browser?.close();
    await host?.close();
  });

  it('each tab turns its camera on; each shows the other two, named, with frames arriving', async () => {
    alice = await CallsPage.open(browser, host.url, 'Alice');
    bob = await CallsPage.open(browser, host.url, 'Bob');
    carol = await CallsPage.open(browser, host.url, 'Carol');
    await alice.join(channel, 'mattermost');
    await bob.join(channel, 'livekit');
    await carol.join(channel, 'mattermost');
    for (const p of pages()) ids.set(p, await p.sessionId());
    for (const p of pages()) {
      await p.waitForParticipants((r) => r.length === 3);
      const button = p.page.locator('#camera-btn');
      expect(await button.isVisible()).toBe(true);
      expect(await button.getAttribute('aria-pressed')).toBe('false');
      expect(await p.layout()).toBe('empty');
    }

    const turnedOn = Date.now();
    await Promise.all(pages().map((p) => p.page.click('#camera-btn')));
    for (const p of pages()) {
      await p.page.locator('#camera-btn[aria-pressed="true"]').waitFor();
    }
    for (const p of pages()) {
      // Its own preview and the other two (in the order the page lists the participants).
      const tiles = await p.waitForTiles((t) => t.length === 3);
      expect(tiles.map((t) => t.session).sort()).toEqual([alice, bob, carol].map(id).sort());
      const listed = (await p.participants()).map((r) => r.session);
      expect(tiles.map((t) => t.session)).toEqual(listed);
      expect(tileOf(tiles, id(p))).toMatchObject({ self: true, name: `${p.name} (you)` });
      await p.waitForTiles((t) => others(p).every((o) => tileOf(t, id(o))?.name === o.name));
      expect(await p.layout()).toBe('grid');
    }
    const decoded = await Promise.all(
      pages().flatMap((viewer) => others(viewer).map((whose) => decodes(viewer, whose))),
    );
    console.log(
      `[page video] each of three shows the other two cameras ${Date.now() - turnedOn} ms after the clicks; sizes ${decoded.map((t) => `${t.width}x${t.height}`).join(', ')}`,
    );
    await alice.page.screenshot({ path: join(ARTIFACTS, 'calls-page-cameras.png') });

    // A phone-sized window: one column, two tiles a row, nothing wider than the screen.
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.waitForTimeout(300);
    const narrow = await alice.page.evaluate(() => {
      const doc = (
        globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }
      ).document;
      return doc.documentElement.scrollWidth;
    });
    expect(narrow).toBeLessThanOrEqual(390);
    const rows = (await alice.tiles()).map((t) => t.box.top);
    expect(new Set(rows).size).toBe(2);
    expect(await alice.page.locator('#camera-btn').isVisible()).toBe(true);
    await alice.page.screenshot({
      path: join(ARTIFACTS, 'calls-page-cameras-narrow.png'),
      fullPage: true,
    });
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 60_000);

  it('a fourth camera is refused: the page says why', async () => {
    const dave = await CallsPage.open(browser, host.url, 'Dave');
    try {
      await dave.join(channel, 'mattermost');
      await dave.waitForParticipants((r) => r.length === 4);
      await dave.page.click('#camera-btn');
      await dave.page.locator('#error-banner', { hasText: /3 cameras on/ }).waitFor();
      expect(await dave.page.getAttribute('#camera-btn', 'aria-pressed')).toBe('false');
      expect(await dave.tiles()).toHaveLength(3);
      await dave.page.click('#leave-btn');
      await dave.waitForState('idle');
    } finally {
      await dave.close();
    }
  }, 30_000);

  it("the speaker's tile is highlighted on the others' pages", async () => {
    // Bob (LiveKit) alone unmutes: the fake microphone's beeps make him the speaker.
    await bob.page.click('#mute-btn');
    for (const p of [alice, carol]) {
      await p.waitForTiles((t) => tileOf(t, id(bob))?.speaking === true, 15_000);
      const tiles = await p.tiles();
      expect(tiles.filter((t) => t.speaking).map((t) => t.session)).toEqual([id(bob)]);
      const border = await p.page.locator(`#video-grid .tile[data-session="${id(bob)}"]`).evaluate(
        (el) =>
          (
            globalThis as unknown as {
              getComputedStyle(e: unknown): { borderTopColor: string };
            }
          ).getComputedStyle(el).borderTopColor,
      );
      expect(border).not.toBe('rgba(0, 0, 0, 0)');
    }
    await bob.page.click('#mute-btn');
    await alice.waitForTiles((t) => tileOf(t, id(bob))?.speaking === false, 15_000);
  }, 45_000);

  it('a screen share is shown large, the cameras in a strip under it', async () => {
    await carol.page.click('#screen-btn');
    await carol.page.locator('#screen-btn[data-on="true"]').waitFor();
    for (const p of [alice, bob]) {
      await p.waitForVideoPicture(15_000);
      await p.page.waitForFunction(
        () =>
          (globalThis as unknown as { __calls: { layout: string } }).__calls.layout === 'screen',
      );
      const screen = await p.page.locator('#screen-area').boundingBox();
      const tiles = await p.waitForTiles((t) => t.length === 3);
      for (const t of tiles) {
        expect(t.box.width * 2).toBeLessThan(screen?.width ?? 0);
        expect(t.box.height * 2).toBeLessThan(screen?.height ?? 0);
      }
      // The strip is one row under the screen.
      const tops = tiles.map((t) => t.box.top);
      expect(new Set(tops).size).toBe(1);
      expect(tops[0]).toBeGreaterThanOrEqual((screen?.y ?? 0) + (screen?.height ?? 0));
      // The cameras keep playing beside it.
      await decodes(p, alice);
    }
    // Alice's page asks for the small tile's size (track_settings): Bob's LiveKit camera comes
    // at its 320×180 layer instead of the 640×360 a Mattermost client gets by default.
    const small = Date.now();
    await alice.waitForTiles((t) => tileOf(t, id(bob))?.width === 320, 10_000);
    console.log(
      `[page video] Alice's tile of Bob at 320 wide ${Date.now() - small} ms after the strip`,
    );
    await bob.page.screenshot({ path: join(ARTIFACTS, 'calls-page-cameras-screen.png') });
    await carol.page.click('#screen-btn');
    for (const p of [alice, bob]) {
      await p.page.waitForFunction(
        () => (globalThis as unknown as { __calls: { layout: string } }).__calls.layout === 'grid',
      );
    }
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 60_000);

  it('a camera turned off leaves every page; a participant leaving takes its tile along', async () => {
    await alice.page.click('#camera-btn');
    await alice.page.locator('#camera-btn[aria-pressed="false"]').waitFor();
    for (const p of pages()) {
      await p.waitForTiles((t) => t.length === 2 && tileOf(t, id(alice)) === undefined);
    }
    // LiveKit's camera off too (livekit-client mutes it).
    await bob.page.click('#camera-btn');
    for (const p of pages()) {
      await p.waitForTiles((t) => t.length === 1 && tileOf(t, id(carol)) !== undefined);
    }
    // Bob turns it on again, then leaves: Carol's and Alice's grids lose his tile.
    await bob.page.click('#camera-btn');
    await decodes(carol, bob);
    await decodes(alice, bob);
    await bob.page.click('#leave-btn');
    await bob.waitForState('idle');
    for (const p of [alice, carol]) {
      await p.waitForTiles((t) => t.length === 1 && tileOf(t, id(carol)) !== undefined);
    }
    expect(await bob.tiles()).toHaveLength(0);
    for (const p of pages()) expect(await p.errorBanner()).toBeNull();
  }, 60_000);

  it('on a server with cameras turned off, neither protocol shows the camera button', async () => {
    const noVideo = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `page:${randomBytes(24).toString('hex')}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_ENABLE_VIDEO: 'false',
      DEMO_WEB_DIR: webDir,
    });
    const tabs: CallsPage[] = [];
    try {
      for (const protocol of ['mattermost', 'livekit'] as const) {
        const tab = await CallsPage.open(browser, noVideo.url, `Eve-${protocol}`);
        tabs.push(tab);
        await tab.join('no-cameras', protocol);
        await tab.page.locator('#camera-btn').waitFor({ state: 'hidden' });
        expect(await tab.page.locator('#mute-btn').isVisible()).toBe(true);
      }
    } finally {
      await Promise.all(tabs.map((t) => t.close()));
      await noVideo.close();
    }
  }, 45_000);
});
