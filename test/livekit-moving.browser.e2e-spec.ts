import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { mintLiveKitToken } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import { launchChromium } from './browser/calls-browser';
import { LIVEKIT_TEST_LOG_NOISE, LiveKitPage, until } from './browser/livekit-page';
import { bundlePage } from './browser/page-bundles';
import { writeToneWav } from './browser/tone-file';
import { AudioContinuity } from './support/audio-continuity';
import { type Counters, GapMeter } from './support/gap-meter';
import { HostProcess } from './support/host-process';
import { SpreadCall, type SpreadParticipant, SPREAD_TONES } from './support/spread-call';
import { TcpProxy } from './support/tcp-proxy';
import { instanceEnv } from './support/instance-env';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const KEY = 'lk-drain';
const SECRET = randomBytes(24).toString('hex');
/** The LiveKit client's microphone (a fake capture file); the Mattermost peers use other tones. */
const LEO_TONE_HZ = 880;

/**
 * A stock livekit-client behind a TCP proxy in front of two instances (a load balancer):
 * - its signal connection drops and comes back through the other instance: a full rejoin under
 *   the same identity, which replaces its session on the first one;
 * - the instance it is on drains (SIGTERM): it is told to reconnect and comes back through the
 *   other instance (the proxy switched, as a load balancer does once the health check fails),
 *   while a stock Mattermost client on the same instance stays, without a gap, until it leaves;
 *   then the process exits.
 * Both with a short gap in what it hears and in what others hear of it.
 */
describe('a LiveKit client moving between instances', () => {
  let redisServer: TestRedisServer;
  let redis: Redis;
  let proxy: TcpProxy;
  const hosts: HostProcess[] = [];
  let browser: Browser;
  let script = '';
  let leo: LiveKitPage | null = null;
  let call: SpreadCall | null = null;

  const instanceId = (i: number) => `lk-drain-${i + 1}`;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const tone = join(ARTIFACTS, 'livekit-drain-tone.wav');
    redisServer = await TestRedisServer.start();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    const started = await Promise.all([
      bundlePage('livekit-harness'),
      ...[0, 1].map((i) =>
        HostProcess.start(
          instanceId(i),
          instanceEnv(redisServer.url, instanceId(i), {
            RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
            DEMO_AUTH_SECRET: 'lk-drain-secret',
          }),
        ),
      ),
      writeToneWav(tone, LEO_TONE_HZ),
    ]);
    script = started[0];
    hosts.push(started[1] as HostProcess, started[2] as HostProcess);
    browser = await launchChromium([
      `--use-file-for-fake-audio-capture=${tone}`,
      '--disable-features=LocalNetworkAccessChecks',
    ]);
    proxy = await TcpProxy.start(hosts[1].port);
  }, 120_000);

  afterAll(async () => {
    if (leo) {
      const logs = leo.logs.filter((l) => !LIVEKIT_TEST_LOG_NOISE.test(l));
      if (logs.length > 0) console.log(`Leo:\n${logs.slice(-20).join('\n')}`);
      await leo.close();
    }
    await browser?.close();
    await call?.close();
    await proxy?.close();
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    redis?.disconnect();
    await redisServer?.stop();
  });

  /** Mary on instance 1 and Bea on instance 2 (stock Mattermost peers), Leo through the proxy. */
  async function startCall(): Promise<{
    spread: SpreadCall;
    mary: SpreadParticipant;
    bea: SpreadParticipant;
    lk: LiveKitPage;
    maryIdentity: string;
  }> {
    const spread = new SpreadCall(`lk-move-${randomBytes(4).toString('hex')}`, redis);
    call = spread;
    const mary = await spread.join(hosts[0], instanceId(0), 'Mary');
    const bea = await spread.join(hosts[1], instanceId(1), 'Bea');
    await spread.allHearEachOther();
    const { userId } = await hosts[0].login('Leo');
    const token = await mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      {
        identity: `${userId}___${randomBytes(13).toString('hex')}`,
        room: spread.channel,
        name: 'Leo',
        ttlSeconds: 600,
      },
    );
    const lk = await LiveKitPage.open(browser, hosts[0].url, script, 'Leo');
    leo = lk;
    await lk.connect(`ws://127.0.0.1:${proxy.port}/livekit`, token);
    await lk.setMicrophone(true);
    const maryIdentity = `${mary.userId}___${mary.client.connectionId}`;
    await lk.hears(maryIdentity);
    await mary.peer.waitFor(
      () => mary.peer.heardTones([LEO_TONE_HZ], 0.5).some((h) => h.share > 0.8),
      20_000,
      "Mary hearing Leo's tone",
    );
    return { spread, mary, bea, lk, maryIdentity };
  }

  /**
   * Starts measuring, per 100 ms, what Leo hears of Mary and what Mary hears of Leo (Mary's
   * tracks but Bea's: Leo's track is a new one after Leo rejoins); `stop` gives the longest gaps.
   */
  async function measureLeo(
    lk: LiveKitPage,
    maryIdentity: string,
    mary: SpreadParticipant,
    bea: SpreadParticipant,
  ): Promise<{ stop(): { hearingGapMs: number; heardGapMs: number } }> {
    const leoHears = await GapMeter.start(
      async (): Promise<Counters> =>
        new Map([['mary', (await lk.inbound(maryIdentity, 'microphone'))?.packets ?? 0]]),
    );
    const beaMid = mary.peer
      .heardTones(SPREAD_TONES, 0.5)
      .find((h) => h.frequencyHz === bea.tone)?.mid;
    const leoHeard = await GapMeter.start(
      async (): Promise<Counters> =>
        new Map(
          (await mary.peer.inboundRtp())
            .filter((s) => s.kind === 'audio' && s.mid !== null && s.mid !== beaMid)
            .map((s) => [s.mid ?? '', s.packets]),
        ),
    );
    return { stop: () => ({ hearingGapMs: leoHears.stop(), heardGapMs: leoHeard.stop() }) };
  }

  /** Instances serving the call's sessions, sorted. */
  async function servedBy(spread: SpreadCall): Promise<string[]> {
    return Object.values((await spread.stored())?.sessions ?? {})
      .map((s) => s.instanceId)
      .sort();
  }

  async function endCall(): Promise<void> {
    await leo?.close();
    leo = null;
    await call?.close();
    call = null;
  }

  it('a dropped signal connection that comes back through another instance: Leo keeps hearing and being heard', async () => {
    proxy.retarget(hosts[1].port);
    const { spread, mary, bea, lk, maryIdentity } = await startCall();
    const meter = await measureLeo(lk, maryIdentity, mary, bea);
    await sleep(1000);

    // The load balancer now sends Leo to instance 1; Leo's WebSocket drops.
    proxy.retarget(hosts[0].port);
    proxy.cut();
    proxy.restore();
    await until(
      'Leo reconnected',
      () => lk.events(),
      (e) => e.some((x) => x.type === 'reconnected'),
      20_000,
    );
    await lk.hears(maryIdentity);
    await sleep(3000);
    const { hearingGapMs, heardGapMs } = meter.stop();
    // One session for Leo, now served by instance 1.
    expect(await servedBy(spread)).toEqual([instanceId(0), instanceId(0), instanceId(1)]);
    console.log(
      `LiveKit client reconnecting through another instance (full rejoin under the same identity): longest gap in what ` +
        `Leo heard ${hearingGapMs} ms, in what Mary heard of Leo ${heardGapMs} ms`,
    );
    expect(hearingGapMs).toBeLessThan(3000);
    expect(heardGapMs).toBeLessThan(3000);
    await endCall();
  }, 120_000);

  // Last: it stops instance 2.
  it('drain: the LiveKit client moves with a gap under 3 s, the Mattermost client stays without one, then the instance exits', async () => {
    proxy.retarget(hosts[1].port);
    const { spread, mary, bea, lk, maryIdentity } = await startCall();
    const stays = await AudioContinuity.start([mary, bea], SPREAD_TONES);
    const meter = await measureLeo(lk, maryIdentity, mary, bea);
    await sleep(1000);

    // SIGTERM: the health check fails, the load balancer sends new connections to instance 1.
    const signalledAt = Date.now();
    let exitedAt = 0;
    const stopped = hosts[1].stop('SIGTERM', 90_000).then(() => (exitedAt = Date.now()));
    proxy.retarget(hosts[0].port);
    await until(
      'Leo reconnected',
      () => lk.events(),
      (e) => e.some((x) => x.type === 'reconnected'),
      20_000,
    );
    await lk.hears(maryIdentity);
    await sleep(4000);
    const { hearingGapMs, heardGapMs } = meter.stop();
    const gaps = await stays.stop();
    // Leo is now served by instance 1 (one session, not two); Bea still by instance 2.
    expect(await servedBy(spread)).toEqual([instanceId(0), instanceId(0), instanceId(1)]);
    expect(exitedAt).toBe(0);

    bea.peer.close();
    expect(await bea.client.send('leave')).toEqual({ ok: true });
    spread.people.splice(spread.people.indexOf(bea), 1);
    const leftAt = Date.now();
    await stopped;
    const silent = gaps.filter((g) => g.silentSeconds > 0);
    console.log(
      `drain with a LiveKit client: Leo (livekit-client) moved to the other instance; longest gap in what Leo heard ` +
        `${hearingGapMs} ms, in what Mary heard of Leo ${heardGapMs} ms; Mary<->Bea (Bea stays on the draining ` +
        `instance, stock Mattermost) seconds without audio: ${silent.length === 0 ? 'none' : silent.map((g) => `${g.listener}<-${g.speaker}=${g.silentSeconds}`).join(' ')}; ` +
        `instance exited ${exitedAt - leftAt} ms after Bea left (${exitedAt - signalledAt} ms after SIGTERM)`,
    );
    expect(silent).toEqual([]);
    expect(hearingGapMs).toBeLessThan(3000);
    expect(heardGapMs).toBeLessThan(3000);
    expect(exitedAt - leftAt).toBeLessThan(5000);
  }, 180_000);
});
