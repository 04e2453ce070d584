import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import { launchChromium } from './browser/calls-browser';
import { LIVEKIT_TEST_LOG_NOISE, LiveKitPage, until } from './browser/livekit-page';
import { MattermostPage } from './browser/mattermost-page';
import { bundlePage } from './browser/page-bundles';
import { writeToneWav } from './browser/tone-file';
import type { TestClient } from './support/host-app';
import { HostProcess } from './support/host-process';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const KEY = 'lk-multi-media';
const SECRET = randomBytes(24).toString('hex');

/**
 * The stock clients in headless Chromium against two host-app processes sharing a throwaway
 * Redis: a call spans both instances (media through the pipes, LiveKit deliveries and data
 * packets through the relay).
 */
describe('livekit-client media across instances', () => {
  let redis: TestRedisServer;
  let hosts: HostProcess[] = [];
  let browser: Browser;
  let livekitScript = '';
  let mattermostScript = '';
  const pages: LiveKitPage[] = [];
  const mmPages: MattermostPage[] = [];
  const clients: TestClient[] = [];

  const env = (i: number): Record<string, string> => ({
    RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
    RUSTCHAT_REDIS_URL: redis.url,
    RUSTCHAT_CALLS_INSTANCE_ID: `lkmm-${i}`,
    RUSTCHAT_CALLS_WORKERS: '1',
    RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
    RUSTCHAT_CALLS_PIPE_ADDRESS: '127.0.0.1',
    RUSTCHAT_CALLS_HTTP_BURST: '10000',
    RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
    DEMO_AUTH_SECRET: 'livekit-multi-instance-media-test-secret',
  });

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const tone = join(ARTIFACTS, 'livekit-tone.wav');
    redis = await TestRedisServer.start();
    [livekitScript, mattermostScript, hosts] = await Promise.all([
      bundlePage('livekit-harness'),
      bundlePage('mattermost-harness'),
      Promise.all([1, 2].map((i) => HostProcess.start(`lkmm-${i}`, env(i)))),
      writeToneWav(tone, 440),
    ]);
    browser = await launchChromium([
      `--use-file-for-fake-audio-capture=${tone}`,
      '--disable-features=LocalNetworkAccessChecks',
    ]);
  }, 120_000);

  afterEach(async () => {
    for (const p of pages.splice(0)) {
      const logs = p.logs.filter((l) => !LIVEKIT_TEST_LOG_NOISE.test(l));
      if (logs.length > 0) console.log(`${p.name}:\n${logs.slice(-20).join('\n')}`);
      await p.close();
    }
    for (const m of mmPages.splice(0)) await m.close();
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    await redis?.stop();
  });

  const channel = () => `lkmm-${randomBytes(4).toString('hex')}`;

  async function joinLiveKit(
    host: HostProcess,
    name: string,
    ch: string,
    adaptiveStream = false,
  ): Promise<LiveKitPage> {
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
    await page.connect(`${host.url.replace('http', 'ws')}/livekit`, token, adaptiveStream);
    return page;
  }

  it('LiveKit participants on two instances hear each other and exchange data packets', async () => {
    const ch = channel();
    const alice = await joinLiveKit(hosts[0], 'Alice', ch);
    const bob = await joinLiveKit(hosts[1], 'Bob', ch);
    await Promise.all([alice.setMicrophone(true), bob.setMicrophone(true)]);
    expect((await bob.hears(alice.identity)).audioLevel).toBeGreaterThan(0);
    expect((await alice.hears(bob.identity)).audioLevel).toBeGreaterThan(0);

    // A data packet crosses instances, attributed by the server to its sender.
    await alice.publishJson('chat', { text: 'hello' });
    const events = await until(
      'the data packet at Bob',
      () => bob.events(),
      (e) => e.some((x) => x.type === 'data' && x.source === 'chat'),
      10_000,
    );
    const packet = events.find((x) => x.type === 'data' && x.source === 'chat');
    expect(packet).toMatchObject({ identity: alice.identity, detail: '{"text":"hello"}' });
  }, 90_000);

  it('a LiveKit participant and a stock Mattermost client on different instances hear each other', async () => {
    const ch = channel();
    const { token } = await hosts[1].login('Mary');
    const client = await hosts[1].connect(token);
    clients.push(client);
    expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const mm = await MattermostPage.open(browser, hosts[1].url, mattermostScript, client);
    mmPages.push(mm);
    await mm.unmute();
    const lk = await joinLiveKit(hosts[0], 'Leo', ch);
    await lk.setMicrophone(true);

    const [remote] = await until(
      'the Mattermost participant with a microphone',
      () => lk.remotes(),
      (r) => r.length === 1 && r[0].tracks.some((t) => t.source === 'microphone'),
    );
    expect((await lk.hears(remote.identity)).audioLevel).toBeGreaterThan(0);
    let before = await mm.inbound();
    await until(
      'the Mattermost client hearing Leo',
      async () => {
        const after = await mm.inbound();
        const audio = (s: typeof after) => s.filter((x) => x.kind === 'audio');
        const grown =
          audio(after).reduce((n, x) => n + x.packets, 0) -
          audio(before).reduce((n, x) => n + x.packets, 0);
        const level = Math.max(0, ...audio(after).map((x) => x.audioLevel));
        before = after;
        return { grown, level };
      },
      ({ grown, level }) => grown > 0 && level > 0,
    );
  }, 90_000);
  it("cameras cross instances: each side decodes the other's, and a viewer's tile picks the layer of one piped in", async () => {
    const ch = channel();
    const alice = await joinLiveKit(hosts[0], 'Alice', ch);
    const bob = await joinLiveKit(hosts[1], 'Bob', ch, true);
    const { token } = await hosts[1].login('Mary');
    const client = await hosts[1].connect(token);
    clients.push(client);
    expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const mary = await MattermostPage.open(browser, hosts[1].url, mattermostScript, client);
    mmPages.push(mary);
    await alice.setCamera(true);
    expect(await mary.startCamera()).toMatchObject({ ok: true });
    const aliceSession = alice.identity.split('___')[1];
    const layers = await until(
      "Alice's three layers sent",
      () => alice.sentLayers('camera'),
      (l) => l.length === 3 && l.every((x) => x.frames > 0 && x.width > 0),
    );
    const [low, middle, top] = layers.map((l) => l.width);

    // Instance 1 decodes Mary's camera (instance 2); instance 2 decodes Alice's, each viewer at
    // its own layer: Mary (Mattermost) the middle one, Bob what his tile needs.
    const maryId = await until(
      "Mary's camera at Alice",
      async () =>
        (await alice.remotes()).find((r) => r.tracks.some((t) => t.source === 'camera'))?.identity,
      (id) => id !== undefined,
    );
    await until(
      "Mary's camera decoded at Alice",
      async () => (await alice.inbound(maryId as string, 'camera'))?.frames ?? 0,
      (frames) => frames > 10,
    );
    const atMary = async () =>
      (await mary.inbound()).find((s) => s.trackId.startsWith(`video_${aliceSession}_`))?.width;
    await until("Alice's camera at Mary, middle layer", atMary, (w) => w === middle);
    const atBob = async () => (await bob.inbound(alice.identity, 'camera'))?.width;
    await bob.layOut(alice.identity, 'camera', { width: 960, height: 540, hidden: false });
    await until("Alice's camera at Bob, large tile", atBob, (w) => w === top);
    await bob.layOut(alice.identity, 'camera', { width: 160, height: 90, hidden: false });
    await until("Alice's camera at Bob, small tile", atBob, (w) => w === low);
  }, 90_000);
});
