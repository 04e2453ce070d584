import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken } from '@app/calls';
import { launchChromium } from './browser/calls-browser';
import { LiveKitPage } from './browser/livekit-page';
import { bundlePage } from './browser/page-bundles';
import { writeToneWav } from './browser/tone-file';
import { TestHostApp } from './support/host-app';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const KEY = 'lk-media';
const SECRET = randomBytes(24).toString('hex');

/**
 * The stock livekit-client 2.23.0 in headless Chromium (fake microphone playing a tone, fake
 * screen) against the host app: real peer connections to the SFU, RTP statistics read from the
 * browser's own WebRTC stack.
 */
describe('livekit-client media in a real browser', () => {
  let host: TestHostApp;
  let browser: Browser;
  let livekitScript: string;
  const pages: LiveKitPage[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const tone = join(ARTIFACTS, 'livekit-tone.wav');
    [livekitScript] = await Promise.all([bundlePage('livekit-harness'), writeToneWav(tone, 440)]);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
    });
    browser = await launchChromium([
      `--use-file-for-fake-audio-capture=${tone}`,
      '--disable-features=LocalNetworkAccessChecks',
    ]);
  }, 60_000);

  afterEach(async () => {
    for (const p of pages.splice(0)) {
      if (p.logs.length > 0) console.log(`${p.name}:\n${p.logs.slice(-20).join('\n')}`);
      await p.close();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const channel = () => `lkm-${randomBytes(4).toString('hex')}`;

  /** A LiveKit participant of `ch`: a demo user, a token for a new session, a page, connected. */
  async function joinLiveKit(name: string, ch: string): Promise<LiveKitPage> {
    const { userId } = await host.login(name);
    const token = await mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      {
        identity: `${userId}___${randomBytes(13).toString('hex')}`,
        room: ch,
        name,
        grants: { canUpdateOwnMetadata: true },
        ttlSeconds: 600,
      },
    );
    const page = await LiveKitPage.open(browser, host.url, livekitScript, name);
    pages.push(page);
    await page.connect(`${host.url.replace('http', 'ws')}/livekit`, token);
    return page;
  }

  it('two LiveKit participants hear each other (inbound RTP and audio level)', async () => {
    const ch = channel();
    const alice = await joinLiveKit('Alice', ch);
    const bob = await joinLiveKit('Bob', ch);
    await Promise.all([alice.setMicrophone(true), bob.setMicrophone(true)]);

    const heardByBob = await bob.hears(alice.identity);
    const heardByAlice = await alice.hears(bob.identity);
    expect(heardByBob.audioLevel).toBeGreaterThan(0);
    expect(heardByAlice.audioLevel).toBeGreaterThan(0);
    const remotes = await bob.remotes();
    expect(remotes).toEqual([
      expect.objectContaining({
        identity: alice.identity,
        sid: alice.sid,
        tracks: [expect.objectContaining({ source: 'microphone', muted: false, subscribed: true })],
      }),
    ]);
  }, 60_000);
});
