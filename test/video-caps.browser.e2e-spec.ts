import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken } from '@app/calls';
import { launchChromium } from './browser/calls-browser';
import { LIVEKIT_TEST_LOG_NOISE, LiveKitPage, until } from './browser/livekit-page';
import { bundlePage } from './browser/page-bundles';
import { TestHostApp } from './support/host-app';

const KEY = 'lk-video-caps';
const SECRET = randomBytes(24).toString('hex');

/** kbit/s a page sends of its track of `source` over `ms`, per simulcast layer (by rid). */
async function sentKbps(page: LiveKitPage, source: string, ms: number) {
  const before = await page.sentLayers(source);
  await page.page.waitForTimeout(ms);
  const after = await page.sentLayers(source);
  return Object.fromEntries(
    after.map((l) => {
      const old = before.find((b) => b.rid === l.rid)?.bytes ?? 0;
      return [l.rid, Math.round(((l.bytes - old) * 8) / ms)];
    }),
  );
}

/**
 * The video bitrate caps of the configuration with livekit-client 2.23 in headless Chromium:
 * the receive cap chooses the layers a viewer gets (the screen share's first), the send cap holds
 * a client's camera under it.
 */
describe('video bitrate caps in real browsers', () => {
  let browser: Browser;
  let script = '';
  const pages: LiveKitPage[] = [];

  beforeAll(async () => {
    script = await bundlePage('livekit-harness');
    browser = await launchChromium(['--disable-features=LocalNetworkAccessChecks']);
  }, 60_000);

  afterEach(async () => {
    for (const p of pages.splice(0)) {
      const logs = p.logs.filter((l) => !LIVEKIT_TEST_LOG_NOISE.test(l));
      if (logs.length > 0) console.log(`${p.name}:\n${logs.slice(-20).join('\n')}`);
      await p.close();
    }
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** The host app with a cap (the variables given); closed after the test. */
  async function withHost<T>(env: Record<string, string>, run: (host: TestHostApp) => Promise<T>) {
    const host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      ...env,
    });
    try {
      return await run(host);
    } finally {
      for (const p of pages.splice(0)) await p.close();
      await host.close();
    }
  }

  async function joinLiveKit(host: TestHostApp, name: string, ch: string): Promise<LiveKitPage> {
    const { userId } = await host.login(name);
    const token = await mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      {
        identity: `${userId}___${randomBytes(13).toString('hex')}`,
        room: ch,
        name,
        ttlSeconds: 600,
      },
    );
    const page = await LiveKitPage.open(browser, host.url, script, name);
    pages.push(page);
    await page.connect(`${host.url.replace('http', 'ws')}/livekit`, token);
    return page;
  }

  it('a viewer capped at 800 kbit/s gets the screen share at its top layer, the camera lower', async () => {
    await withHost({ RUSTCHAT_CALLS_VIDEO_MAX_RECEIVE_KBPS: '800' }, async (host) => {
      const bob = await joinLiveKit(host, 'Bob', 'caps-receive');
      const alice = await joinLiveKit(host, 'Alice', 'caps-receive');
      await bob.setCamera(true);
      await bob.setScreenShare(true);
      const sent = async () => ({
        camera: await bob.sentLayers('camera'),
        screen: await bob.sentLayers('screen_share'),
      });
      const layers = await until(
        "Bob's camera and screen layers sent",
        sent,
        (s) =>
          s.camera.filter((l) => l.width > 0).length === 3 &&
          s.screen.filter((l) => l.width > 0).length === 2,
        20_000,
      );
      const top = (l: { width: number }[]) => Math.max(...l.map((x) => x.width));
      console.log(
        `[video-caps] Bob sends camera ${JSON.stringify(await sentKbps(bob, 'camera', 1000))} kbit/s, screen ${JSON.stringify(await sentKbps(bob, 'screen_share', 1000))} kbit/s`,
      );
      // Both top layers do not fit in 800 kbit/s: the screen share's is forwarded, the camera's not.
      const at = async () => ({
        screen: (await alice.inbound(bob.identity, 'screen_share'))?.width ?? 0,
        camera: (await alice.inbound(bob.identity, 'camera'))?.width ?? 0,
      });
      await until(
        'the screen at its top layer at Alice, the camera below its top',
        at,
        (w) => w.screen === top(layers.screen) && w.camera > 0 && w.camera < top(layers.camera),
        20_000,
      );
      await alice.page.waitForTimeout(3000);
      const settled = await at();
      console.log(
        `[video-caps] capped at 800 kbit/s, Alice gets the screen ${settled.screen} wide, the camera ${settled.camera} wide`,
      );
      expect(settled.screen).toBe(top(layers.screen));
      expect(settled.camera).toBeLessThan(top(layers.camera));
    });
  }, 90_000);

  it('a camera under a 300 kbit/s send cap is sent within it (its upper layers off)', async () => {
    await withHost({ RUSTCHAT_CALLS_VIDEO_MAX_SEND_KBPS: '300' }, async (host) => {
      const bob = await joinLiveKit(host, 'Bob', 'caps-send');
      await joinLiveKit(host, 'Alice', 'caps-send');
      await bob.setCamera(true);
      await until(
        'the camera sent',
        () => bob.sentLayers('camera'),
        (l) => l.some((x) => x.frames > 30),
      );
      await bob.page.waitForTimeout(2000);
      const kbps = await sentKbps(bob, 'camera', 3000);
      const total = Object.values(kbps).reduce((a, b) => a + b, 0);
      console.log(
        `[video-caps] send cap 300 kbit/s: Bob sends ${JSON.stringify(kbps)} (${total} kbit/s)`,
      );
      expect(total).toBeLessThan(300 * 1.1);
      expect(kbps.f ?? 0).toBe(0);
    });
  }, 60_000);
});
