import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken, SfuService } from '@app/calls';
import { LiveKitSessions } from '@app/calls/livekit/livekit-sessions';
import { launchChromium } from './browser/calls-browser';
import { LIVEKIT_TEST_LOG_NOISE, LiveKitPage, until } from './browser/livekit-page';
import { MattermostPage, type MmInbound } from './browser/mattermost-page';
import { bundlePage } from './browser/page-bundles';
import { writeToneWav } from './browser/tone-file';
import { TestHostApp, type TestClient } from './support/host-app';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const KEY = 'lk-media';
const SECRET = randomBytes(24).toString('hex');
/** Opus sends 50 packets/s; a stopped stream shows at most a few in flight. */
const STOPPED = 5;

/** The session id of a LiveKit identity `userID___sessionID`. */
const sessionOf = (identity: string): string => identity.split('___')[1] ?? '';

/** Growth of one kind's inbound packets (all streams of that kind) between two samples. */
function inboundGrowth(before: MmInbound[], after: MmInbound[], kind: string) {
  const sum = (s: MmInbound[], key: 'packets' | 'frames') =>
    s.filter((x) => x.kind === kind).reduce((n, x) => n + x[key], 0);
  return {
    packets: sum(after, 'packets') - sum(before, 'packets'),
    frames: sum(after, 'frames') - sum(before, 'frames'),
    audioLevel: Math.max(0, ...after.filter((x) => x.kind === kind).map((x) => x.audioLevel)),
  };
}
/**
 * The stock livekit-client 2.23.0 in headless Chromium (fake microphone playing a tone, fake
 * screen) against the host app: real peer connections to the SFU, RTP statistics read from the
 * browser's own WebRTC stack.
 */
describe('livekit-client media in a real browser', () => {
  let host: TestHostApp;
  let browser: Browser;
  let livekitScript = '';
  let mattermostScript = '';
  const pages: LiveKitPage[] = [];
  const mmPages: MattermostPage[] = [];
  const clients: TestClient[] = [];
  /** The demo token of each Mattermost participant (for host controls). */
  const tokens = new WeakMap<MattermostPage, string>();

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const tone = join(ARTIFACTS, 'livekit-tone.wav');
    [livekitScript, mattermostScript] = await Promise.all([
      bundlePage('livekit-harness'),
      bundlePage('mattermost-harness'),
      writeToneWav(tone, 440),
    ]);
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

  /** A Mattermost participant of `ch`: socket.io join, the stock RTCPeer in a page, unmuted. */
  async function joinMattermost(name: string, ch: string): Promise<MattermostPage> {
    const { token } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const page = await MattermostPage.open(browser, host.url, mattermostScript, client);
    mmPages.push(page);
    tokens.set(page, token);
    await page.unmute();
    return page;
  }

  /** Waits until the Mattermost page receives `kind` flowing (and, for audio, with a level). */
  async function mmReceives(mm: MattermostPage, kind: 'audio' | 'video') {
    let before = await mm.inbound();
    return until(
      `the Mattermost client receiving ${kind}`,
      async () => {
        const after = await mm.inbound();
        const g = inboundGrowth(before, after, kind);
        before = after;
        return g;
      },
      (g) => g.packets > 0 && (kind === 'audio' ? g.audioLevel > 0 : g.frames > 0),
    );
  }

  /** Inbound `kind` packets at the Mattermost page over `ms`. */
  async function mmPacketsOver(mm: MattermostPage, kind: string, ms: number): Promise<number> {
    const before = await mm.inbound();
    await mm.page.waitForTimeout(ms);
    return inboundGrowth(before, await mm.inbound(), kind).packets;
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
    // What was heard was sent: Alice's microphone captures a sound and sends it.
    const sent = await alice.outbound('microphone');
    expect(sent?.level).toBeGreaterThan(0);
    expect(sent?.packets).toBeGreaterThan(0);
    const remotes = await bob.remotes();
    expect(remotes).toEqual([
      expect.objectContaining({
        identity: alice.identity,
        sid: alice.sid,
        tracks: [expect.objectContaining({ source: 'microphone', muted: false, subscribed: true })],
      }),
    ]);
  }, 60_000);

  it('a LiveKit participant and a stock Mattermost client hear each other; mute and unmute cross protocols and stop the voice', async () => {
    const ch = channel();
    const mm = await joinMattermost('Mary', ch);
    const lk = await joinLiveKit('Leo', ch);
    await lk.setMicrophone(true);
    const remote = await until(
      'the Mattermost participant with a microphone',
      () => lk.remotes(),
      (r) => r.length === 1 && r[0].tracks.some((t) => t.source === 'microphone' && t.subscribed),
    );
    expect(sessionOf(remote[0].identity)).toBe(mm.client.connectionId);
    const mmId = remote[0].identity;

    // Each hears the other: RTP flowing with a sound level, in each browser's own statistics.
    expect((await lk.hears(mmId)).audioLevel).toBeGreaterThan(0);
    expect((await mmReceives(mm, 'audio')).audioLevel).toBeGreaterThan(0);

    // LiveKit mutes: Mattermost sees user_muted, and the voice stops reaching it.
    const lkSession = sessionOf(lk.identity);
    await lk.setMicrophone(false);
    await mm.client.waitFor('user_muted', (e) => e.data.session_id === lkSession, 5000);
    await mm.page.waitForTimeout(300);
    expect(await mmPacketsOver(mm, 'audio', 1000)).toBeLessThanOrEqual(STOPPED);
    await lk.setMicrophone(true);
    await mm.client.waitFor('user_unmuted', (e) => e.data.session_id === lkSession, 5000);
    await mmReceives(mm, 'audio');

    // Mattermost mutes: LiveKit sees its microphone muted, and the voice stops reaching it.
    await mm.client.send('mute');
    await until(
      'the Mattermost microphone shown muted',
      () => lk.remotes(),
      (r) => r[0]?.tracks.some((t) => t.source === 'microphone' && t.muted) ?? false,
      5000,
    );
    await lk.page.waitForTimeout(300);
    expect(await lk.packetsOver(mmId, 'microphone', 1000)).toBeLessThanOrEqual(STOPPED);
    await mm.client.send('unmute');
    await lk.hears(mmId);
    expect((await lk.events()).filter((e) => e.identity === mmId).map((e) => e.type)).toEqual(
      expect.arrayContaining(['muted', 'unmuted']),
    );
  }, 90_000);

  it('raised hands and reactions are seen on both protocols', async () => {
    const ch = channel();
    const mm = await joinMattermost('Mona', ch);
    const lk = await joinLiveKit('Lars', ch);
    const lkSession = sessionOf(lk.identity);
    const [{ identity: mmId }] = await until(
      'the Mattermost participant',
      () => lk.remotes(),
      (r) => r.length === 1,
    );

    // LiveKit raises its hand (Mattermost's attribute): Mattermost sees user_raise_hand.
    await lk.setAttributes({ raised_hand: String(Date.now()) });
    await mm.client.waitFor('user_raise_hand', (e) => e.data.session_id === lkSession, 5000);
    // Mattermost raises its hand: LiveKit sees the attribute.
    await mm.client.send('raise_hand');
    await until(
      'the Mattermost hand as an attribute',
      () => lk.remotes(),
      (r) => Number(r[0]?.attributes.raised_hand ?? 0) > 0,
      5000,
    );
    await mm.client.send('unraise_hand');
    await until(
      'the Mattermost hand lowered',
      () => lk.remotes(),
      (r) => r[0] !== undefined && !r[0].attributes.raised_hand,
      5000,
    );

    // LiveKit reacts (a data packet, topic reaction): Mattermost sees user_reacted.
    const emojiData = { name: 'thumbsup', unified: '1f44d', literal: '👍' };
    await lk.publishJson('reaction', { emojiData, timestamp: Date.now() });
    const reacted = await mm.client.waitFor(
      'user_reacted',
      (e) => e.data.session_id === lkSession,
      5000,
    );
    expect(reacted.data.emoji).toMatchObject({ name: 'thumbsup' });
    // Mattermost reacts: LiveKit gets a reaction packet from that participant.
    await mm.client.send('react', { data: JSON.stringify({ name: 'tada', unified: '1f389' }) });
    const events = await until(
      'a reaction data packet',
      () => lk.events(),
      (e) => e.some((x) => x.type === 'data' && x.source === 'reaction'),
      5000,
    );
    const packet = events.find((x) => x.type === 'data' && x.source === 'reaction');
    expect(packet?.identity).toBe(mmId);
    expect(JSON.parse(packet?.detail ?? '{}')).toMatchObject({ emojiData: { name: 'tada' } });
  }, 60_000);

  it('a screen share is seen by the other side, both ways; the host stops a LiveKit share', async () => {
    const ch = channel();
    const mm = await joinMattermost('Max', ch);
    const lk = await joinLiveKit('Lea', ch);
    const lkSession = sessionOf(lk.identity);
    const [{ identity: mmId }] = await until(
      'the Mattermost participant',
      () => lk.remotes(),
      (r) => r.length === 1,
    );

    // LiveKit shares: Mattermost sees user_screen_on and decodes the screen.
    await lk.setScreenShare(true);
    await mm.client.waitFor('user_screen_on', (e) => e.data.session_id === lkSession, 10_000);
    await mmReceives(mm, 'video');
    await lk.setScreenShare(false);
    await mm.client.waitFor('user_screen_off', (e) => e.data.session_id === lkSession, 10_000);

    // It shares again and the host (Max, the first joiner) stops it: the client is told
    // (Mattermost's host_control packet, its track unpublished), Mattermost sees the share end.
    const count = (name: string) => () =>
      mm.client.received(name).filter((e) => e.data.session_id === lkSession).length;
    await lk.setScreenShare(true);
    await until('the second share on', count('user_screen_on'), (n) => n === 2, 10_000);
    await host.http
      .post(`/plugins/com.mattermost.calls/calls/${ch}/host/screen-off`)
      .set('Authorization', `Bearer ${tokens.get(mm)}`)
      .send({ session_id: lkSession })
      .expect(200);
    const events = await until(
      'the host_control packet and the unpublished screen',
      () => lk.events(),
      (e) =>
        e.some((x) => x.type === 'data' && x.source === 'host_control') &&
        e.some((x) => x.type === 'local-unpublished' && x.source === 'screen_share'),
      10_000,
    );
    const control = events.find((x) => x.type === 'data' && x.source === 'host_control');
    expect(control?.identity).toBeUndefined();
    expect(JSON.parse(control?.detail ?? '{}')).toEqual({ action: 'stop_screenshare' });
    await until('the second share off', count('user_screen_off'), (n) => n === 2, 10_000);
    expect(await lk.localTracks()).not.toContainEqual(
      expect.objectContaining({ source: 'screen_share' }),
    );

    // Mattermost shares: LiveKit sees a screen share track of that participant and decodes it.
    await mm.shareScreen();
    await until(
      'the Mattermost screen share decoded',
      () => lk.inbound(mmId, 'screen_share'),
      (s) => (s?.frames ?? 0) > 5,
    );
  }, 60_000);

  it('the host mutes a LiveKit participant (its client mutes, its voice stops), then removes it: Disconnected(PARTICIPANT_REMOVED)', async () => {
    const ch = channel();
    const hilda = await joinMattermost('Hilda', ch);
    const lk = await joinLiveKit('Lukas', ch);
    const lkSession = sessionOf(lk.identity);
    const hostControl = (action: string) =>
      host.http
        .post(`/plugins/com.mattermost.calls/calls/${ch}/host/${action}`)
        .set('Authorization', `Bearer ${tokens.get(hilda)}`)
        .send({ session_id: lkSession })
        .expect(200);
    await lk.setMicrophone(true);
    await mmReceives(hilda, 'audio');

    await hostControl('mute');
    await hilda.client.waitFor('user_muted', (e) => e.data.session_id === lkSession, 5000);
    await until(
      'the LiveKit client muting its microphone',
      () => lk.localTracks(),
      (t) => t.some((x) => x.source === 'microphone' && x.muted),
      5000,
    );
    await hilda.page.waitForTimeout(300);
    expect(await mmPacketsOver(hilda, 'audio', 1000)).toBeLessThanOrEqual(STOPPED);

    await hostControl('remove');
    const events = await until(
      'the LiveKit client disconnected',
      () => lk.events(),
      (e) => e.some((x) => x.type === 'disconnected'),
      10_000,
    );
    // livekit-client's DisconnectReason.PARTICIPANT_REMOVED is 4.
    expect(events.find((x) => x.type === 'disconnected')?.detail).toBe('4');
    await hilda.client.waitFor('user_left', (e) => e.data.session_id === lkSession, 10_000);
  }, 60_000);

  it('a dropped signal connection: the client reconnects under the same identity and hears again', async () => {
    const ch = channel();
    const alice = await joinLiveKit('Ada', ch);
    const bob = await joinLiveKit('Ben', ch);
    await Promise.all([alice.setMicrophone(true), bob.setMicrophone(true)]);
    await bob.hears(alice.identity);

    // The server drops Alice's signal WebSocket (as a network blip would).
    const connection = host.app.get(LiveKitSessions).get(sessionOf(alice.identity));
    expect(connection).toBeDefined();
    connection?.closeWithError(1001, 'test: connection dropped');
    await until(
      'Alice reconnected',
      () => alice.events(),
      (e) => e.some((x) => x.type === 'reconnected'),
      20_000,
    );
    const again = host.app.get(LiveKitSessions).get(sessionOf(alice.identity));
    expect(again).toBeDefined();
    expect(again).not.toBe(connection);
    await bob.hears(alice.identity);
    await alice.hears(bob.identity);
  }, 60_000);

  // Last: it kills the host's media worker (a new one takes the call over).
  it("the call's media worker dies: the client is told to reconnect and hears again", async () => {
    const ch = channel();
    const alice = await joinLiveKit('Ava', ch);
    const bob = await joinLiveKit('Bo', ch);
    await Promise.all([alice.setMicrophone(true), bob.setMicrophone(true)]);
    await bob.hears(alice.identity);

    const sfu = host.app.get(SfuService);
    const callId = host.app.get(LiveKitSessions).get(sessionOf(alice.identity))?.session?.callId;
    const pid = sfu.callWorkerPid(callId ?? '');
    expect(pid).toBeDefined();
    process.kill(pid ?? 0, 'SIGKILL');

    await until(
      'both reconnected',
      async () => [await alice.events(), await bob.events()],
      (all) => all.every((e) => e.some((x) => x.type === 'reconnected')),
      20_000,
    );
    await bob.hears(alice.identity);
    await alice.hears(bob.identity);
    expect(sfu.callWorkerPid(callId ?? '')).not.toBe(pid);
  }, 60_000);
});
