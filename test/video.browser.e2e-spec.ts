import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken } from '@app/calls';
import { launchChromium } from './browser/calls-browser';
import {
  LIVEKIT_TEST_LOG_NOISE,
  LiveKitPage,
  type LkTrackStats,
  until,
} from './browser/livekit-page';
import { MattermostPage, type MmInbound } from './browser/mattermost-page';
import { bundlePage } from './browser/page-bundles';
import { TestHostApp, type TestClient } from './support/host-app';

const KEY = 'lk-video';
const SECRET = randomBytes(24).toString('hex');
/** A stopped video shows at most a few packets in flight. */
const STOPPED = 5;

/** The session id of a LiveKit identity `userID___sessionID`. */
const sessionOf = (identity: string): string => identity.split('___')[1] ?? '';

/** The camera of `sessionId` as a Mattermost page receives it (the server labels it `video_<session>_…`). */
function cameraOf(inbound: MmInbound[], sessionId: string): MmInbound | undefined {
  return inbound.find((s) => s.kind === 'video' && s.trackId.startsWith(`video_${sessionId}_`));
}

/**
 * Cameras in a call of stock clients in headless Chromium (fake cameras: a moving pattern):
 * livekit-client 2.23 publishing 960×540 in three simulcast layers, with and without adaptive
 * stream, and the stock Mattermost client (calls-common's RTCPeer) with `video_on`. What each
 * receives is read from its own WebRTC statistics (frames decoded, frame size, bytes).
 */
describe('group video in real browsers', () => {
  let host: TestHostApp;
  let browser: Browser;
  let livekitScript = '';
  let mattermostScript = '';
  const pages: LiveKitPage[] = [];
  const mmPages: MattermostPage[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    [livekitScript, mattermostScript] = await Promise.all([
      bundlePage('livekit-harness'),
      bundlePage('mattermost-harness'),
    ]);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
    });
    browser = await launchChromium(['--disable-features=LocalNetworkAccessChecks']);
  }, 60_000);

  afterEach(async () => {
    for (const p of pages.splice(0)) {
      const logs = p.logs.filter((l) => !LIVEKIT_TEST_LOG_NOISE.test(l));
      if (logs.length > 0) console.log(`${p.name}:\n${logs.slice(-20).join('\n')}`);
      await p.close();
    }
    for (const m of mmPages.splice(0)) {
      const problems = await m.problems().catch(() => []);
      if (problems.length > 0) console.log(`Mattermost page:\n${problems.join('\n')}`);
      await m.close();
    }
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const channel = () => `video-${randomBytes(4).toString('hex')}`;

  /** A LiveKit participant of `ch` (with adaptive stream: it receives what its tiles need). */
  async function joinLiveKit(name: string, ch: string, adaptiveStream: boolean) {
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
    const page = await LiveKitPage.open(browser, host.url, livekitScript, name);
    pages.push(page);
    await page.connect(`${host.url.replace('http', 'ws')}/livekit`, token, adaptiveStream);
    return page;
  }

  /** A Mattermost participant of `ch`: socket.io join and the stock RTCPeer in a page. */
  async function joinMattermost(name: string, ch: string): Promise<MattermostPage> {
    const { token } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const page = await MattermostPage.open(browser, host.url, mattermostScript, client);
    mmPages.push(page);
    return page;
  }

  /** Waits until `lk` decodes `identity`'s camera (a few more frames than when it started). */
  async function lkDecodes(lk: LiveKitPage, identity: string): Promise<LkTrackStats> {
    const start = (await lk.inbound(identity, 'camera'))?.frames ?? 0;
    const now = await until(
      `${lk.name} decoding the camera of ${identity}`,
      () => lk.inbound(identity, 'camera'),
      (s) => s !== null && s.frames >= start + 3,
    );
    return now as LkTrackStats;
  }

  /** Waits until the Mattermost page decodes the camera of `sessionId` (a few more frames). */
  async function mmDecodes(mm: MattermostPage, sessionId: string): Promise<MmInbound> {
    const start = cameraOf(await mm.inbound(), sessionId)?.frames ?? 0;
    const now = await until(
      `the Mattermost client decoding the camera of ${sessionId}`,
      async () => cameraOf(await mm.inbound(), sessionId),
      (s) => s !== undefined && s.frames >= start + 3,
    );
    return now as MmInbound;
  }

  /** Bytes of `sessionId`'s camera the Mattermost page receives over `ms`. */
  async function mmBytesOver(mm: MattermostPage, sessionId: string, ms: number) {
    const before = cameraOf(await mm.inbound(), sessionId);
    await mm.page.waitForTimeout(ms);
    const after = cameraOf(await mm.inbound(), sessionId);
    return {
      bytes: (after?.bytes ?? 0) - (before?.bytes ?? 0),
      packets: (after?.packets ?? 0) - (before?.packets ?? 0),
    };
  }

  it('three participants on two protocols each decode the other two cameras; camera off removes it everywhere', async () => {
    const ch = channel();
    const alice = await joinLiveKit('Alice', ch, true);
    const mary = await joinMattermost('Mary', ch);
    const bob = await joinLiveKit('Bob', ch, false);
    const maryId = await until(
      'Mary at Alice',
      async () =>
        (await alice.remotes()).find((r) => sessionOf(r.identity) === mary.client.connectionId)
          ?.identity,
      (id) => id !== undefined,
    );
    const [aliceSession, bobSession] = [sessionOf(alice.identity), sessionOf(bob.identity)];

    const turnedOn = Date.now();
    await Promise.all([alice.setCamera(true), bob.setCamera(true)]);
    expect(await mary.startCamera()).toMatchObject({ ok: true });
    for (const s of [aliceSession, bobSession]) {
      await mary.client.waitFor('user_video_on', (e) => e.data.session_id === s, 10_000);
    }
    // LiveKit publishes the camera in three simulcast layers; the server takes all three.
    const layers = await until(
      "Alice's three layers sent",
      () => alice.sentLayers('camera'),
      (l) => l.length === 3 && l.every((x) => x.frames > 0),
    );
    expect(layers.map((l) => l.rid).sort()).toEqual(['f', 'h', 'q']);

    await Promise.all([
      lkDecodes(alice, bob.identity),
      lkDecodes(alice, maryId as string),
      lkDecodes(bob, alice.identity),
      lkDecodes(bob, maryId as string),
      mmDecodes(mary, aliceSession),
      mmDecodes(mary, bobSession),
    ]);
    console.log(
      `[video] each of three decodes the other two cameras ${Date.now() - turnedOn} ms after they were turned on`,
    );

    // Bob turns his camera off (livekit-client mutes it): Mattermost sees user_video_off, and
    // neither Alice nor Mary receives anything of it any more.
    await bob.setCamera(false);
    await mary.client.waitFor('user_video_off', (e) => e.data.session_id === bobSession, 10_000);
    await until(
      "Bob's camera shown muted at Alice",
      async () => (await alice.remotes()).find((r) => r.identity === bob.identity)?.tracks,
      (t) => t?.some((x) => x.source === 'camera' && x.muted) ?? false,
      10_000,
    );
    await alice.page.waitForTimeout(500);
    expect(await alice.packetsOver(bob.identity, 'camera', 1000)).toBeLessThanOrEqual(STOPPED);
    expect((await mmBytesOver(mary, bobSession, 1000)).packets).toBeLessThanOrEqual(STOPPED);

    // Mary turns hers off (the track ends, then video_off): the LiveKit clients lose the track.
    await mary.stopCamera();
    for (const lk of [alice, bob]) {
      await until(
        `Mary's camera gone at ${lk.name}`,
        async () => (await lk.remotes()).find((r) => r.identity === maryId)?.tracks ?? [],
        (t) => !t.some((x) => x.source === 'camera'),
        10_000,
      );
    }
  }, 90_000);
  it("each viewer gets the layer its tile needs (LiveKit's adaptive stream, Mattermost's track_settings); a hidden tile gets nothing", async () => {
    const ch = channel();
    const bob = await joinLiveKit('Bob', ch, false);
    const alice = await joinLiveKit('Alice', ch, true);
    const mary = await joinMattermost('Mary', ch);
    const bobSession = sessionOf(bob.identity);
    await bob.setCamera(true);
    const sent = await until(
      "Bob's three layers sent",
      () => bob.sentLayers('camera'),
      (l) => l.length === 3 && l.every((x) => x.frames > 0 && x.width > 0),
    );
    const [low, middle, top] = sent.map((l) => l.width);
    console.log(
      `[video] Bob sends ${sent.map((l) => `${l.rid} ${l.width}x${l.height}`).join(', ')}`,
    );

    /** Waits until `what` receives frames `width` wide; returns how long it took. */
    async function reaches(
      what: string,
      sample: () => Promise<{ width: number } | undefined>,
      width: number,
    ) {
      const t0 = Date.now();
      await until(
        `${what} receiving frames ${width} wide`,
        sample,
        (s) => s?.width === width,
        20_000,
      );
      return Date.now() - t0;
    }
    const atAlice = async () => (await alice.inbound(bob.identity, 'camera')) ?? undefined;
    const atMary = async () => cameraOf(await mary.inbound(), bobSession);
    const tile = (width: number, height: number, hidden = false) =>
      alice.layOut(bob.identity, 'camera', { width, height, hidden });

    // Alice shows Bob large, then small, then large: the layer follows.
    await tile(960, 540);
    await reaches('Alice (large tile)', atAlice, top);
    const down = await reaches('Alice (small tile)', atAlice, (await tile(160, 90), low));
    const up = await reaches('Alice (large tile again)', atAlice, (await tile(960, 540), top));
    console.log(`[video] Alice's layer: down in ${down} ms, up in ${up} ms`);

    // A stock Mattermost client gets the middle layer (640×360 default); its track_settings
    // move it like a tile would.
    await reaches('Mary (default)', atMary, middle);
    expect(await mary.trackSettings(bobSession, 'video', { width: 160, height: 90 })).toMatchObject(
      { ok: true },
    );
    await reaches('Mary (small)', atMary, low);
    await mary.trackSettings(bobSession, 'video', { width: 1920, height: 1080 });
    await reaches('Mary (large)', atMary, top);

    // Hidden: nothing of it arrives; shown again, it comes back.
    await tile(960, 540, true);
    await mary.trackSettings(bobSession, 'video', { disabled: true });
    await alice.page.waitForTimeout(1000);
    const [hiddenAtAlice, hiddenAtMary] = await Promise.all([
      alice.packetsOver(bob.identity, 'camera', 2000),
      mmBytesOver(mary, bobSession, 2000),
    ]);
    console.log(
      `[video] hidden: ${hiddenAtAlice} packets at Alice, ${hiddenAtMary.packets} at Mary in 2 s`,
    );
    expect(hiddenAtAlice).toBeLessThanOrEqual(STOPPED);
    expect(hiddenAtMary.packets).toBeLessThanOrEqual(STOPPED);
    await tile(960, 540);
    await mary.trackSettings(bobSession, 'video', {});
    await lkDecodes(alice, bob.identity);
    await mmDecodes(mary, bobSession);
  }, 90_000);
  it('a LiveKit simulcast screen share reaches a Mattermost client at the frame rate it is sent at', async () => {
    const ch = channel();
    const mary = await joinMattermost('Mary', ch);
    const bob = await joinLiveKit('Bob', ch, false);
    const bobSession = sessionOf(bob.identity);
    await bob.setScreenShare(true);
    await mary.client.waitFor('user_screen_on', (e) => e.data.session_id === bobSession, 10_000);
    const screenAtMary = async () =>
      (await mary.inbound()).find(
        (s) => s.kind === 'video' && s.trackId.startsWith(`screen_${bobSession}_`),
      );
    await until('the screen decoded at Mary', screenAtMary, (s) => (s?.frames ?? 0) > 5);
    const layers = await bob.sentLayers('screen_share');
    expect(layers.length).toBeGreaterThan(1);
    // Over 4 s: frames of the top layer Bob encodes, frames Mary decodes.
    const sentBefore = layers[layers.length - 1].frames;
    const before = (await screenAtMary())?.frames ?? 0;
    await mary.page.waitForTimeout(4000);
    const sentLayers = await bob.sentLayers('screen_share');
    const sent = sentLayers[sentLayers.length - 1].frames - sentBefore;
    const decoded = ((await screenAtMary())?.frames ?? 0) - before;
    console.log(
      `[video] screen share: ${sent} frames sent (top layer), ${decoded} decoded at Mary in 4 s`,
    );
    expect(sent).toBeGreaterThan(8);
    expect(decoded).toBeGreaterThan(sent * 0.7);
  }, 60_000);
});
