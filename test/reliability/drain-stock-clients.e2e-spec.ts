import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer } from '@app/calls/testing';
import { AudioContinuity } from '../support/audio-continuity';
import type { TestClient } from '../support/host-app';
import { HostProcess } from '../support/host-process';
import { SpreadCall, SPREAD_TONES } from '../support/spread-call';
import { instanceEnv } from '../support/instance-env';

/**
 * A rolling restart with stock Mattermost clients, which ignore `server_draining`: SIGTERM on one
 * of two instances. Its participants keep their call (and keep hearing and being heard, also by
 * someone who joins meanwhile through the other instance) until they leave; new joins there are
 * refused and `/health` says down; once its last participant left, the process exits at once.
 */
describe('drain that stock clients survive', () => {
  let redisServer: TestRedisServer;
  let redis: Redis;
  const hosts: HostProcess[] = [];
  const extra: TestClient[] = [];
  let call: SpreadCall | null = null;

  const instanceId = (i: number) => `drain-${i + 1}`;
  /** How long the test holds the draining instance's participants in the call. */
  const HELD_MS = 16_000;

  beforeAll(async () => {
    redisServer = await TestRedisServer.start();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    hosts.push(
      ...(await Promise.all(
        [0, 1].map((i) =>
          HostProcess.start(
            instanceId(i),
            instanceEnv(redisServer.url, instanceId(i), { DEMO_AUTH_SECRET: 'drain-secret' }),
          ),
        ),
      )),
    );
  }, 120_000);

  afterAll(async () => {
    await call?.close();
    for (const c of extra) c.close();
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('keeps its participants until they leave, with no second without audio, then exits', async () => {
    const spread = new SpreadCall(`drain-${randomBytes(4).toString('hex')}`, redis);
    call = spread;
    const a1 = await spread.join(hosts[0], instanceId(0), 'A1');
    const a2 = await spread.join(hosts[0], instanceId(0), 'A2');
    const b1 = await spread.join(hosts[1], instanceId(1), 'B1');
    const b2 = await spread.join(hosts[1], instanceId(1), 'B2');
    await spread.allHearEachOther();
    const callId = (await spread.stored())!.id;
    const monitor = await AudioContinuity.start([a1, a2, b1, b2], SPREAD_TONES);

    const signalledAt = Date.now();
    let exitedAt = 0;
    const stopped = hosts[1].stop('SIGTERM', 90_000).then(() => (exitedAt = Date.now()));
    // Told (the calls page would move), ignored: a stock client stays.
    for (const b of [b1, b2]) await b.client.waitFor('server_draining', undefined, 10_000);

    // New joins go elsewhere: refused here, and the load balancer's health check says down.
    const health = await hosts[1].http.get('/health');
    expect(health.status).toBe(503);
    const late = await hosts[1].connect((await hosts[1].login('Late')).token);
    extra.push(late);
    const refused = await late.send<{ ok: boolean; error?: { code: string } }>('join', {
      channelID: spread.channel,
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'draining' } });

    // Someone joins through the other instance: everyone, those on the draining one too, hears them.
    const c = await spread.join(hosts[0], instanceId(0), 'C');
    await spread.allHearEachOther(30_000);
    // Longer than the 15 s after which the drain of old dropped them.
    while (Date.now() - signalledAt < HELD_MS) await sleep(250);
    const gaps = await monitor.stop();
    expect(await spread.converged(callId, [instanceId(0), instanceId(1)])).toBe(true);
    const drainedFor = Date.now() - signalledAt;
    expect(exitedAt).toBe(0);

    // Their call ends for them: they leave, and the draining instance exits right after.
    for (const b of [b1, b2]) {
      b.peer.close();
      expect(await b.client.send('leave')).toEqual({ ok: true });
      spread.people.splice(spread.people.indexOf(b), 1);
    }
    const leftAt = Date.now();
    await stopped;
    const exitMs = exitedAt - leftAt;
    for (const p of [a1, a2, c]) p.peer.resetAudio();
    await spread.allHearEachOther(30_000);
    expect(await spread.converged(callId, [instanceId(0)])).toBe(true);
    const drained = /drained \[[^\]]*\]/.exec(hosts[1].output.join('\n'))?.[0] ?? '';
    const silent = gaps.filter((g) => g.silentSeconds > 0);
    console.log(
      `drain with stock clients: ${drainedFor} ms into the drain its 2 participants still in the call; seconds without ` +
        `audio (all pairs of the 4, ${Math.min(...gaps.map((g) => g.seconds))}+ s each): ` +
        `${silent.length === 0 ? 'none' : silent.map((g) => `${g.listener}<-${g.speaker}=${g.silentSeconds}`).join(' ')}; ` +
        `a newcomer on the other instance heard by all; process exited ${exitMs} ms after its last participant left (${drained})`,
    );
    expect(silent).toEqual([]);
    expect(drained).toContain('remaining=0');
    expect(exitMs).toBeLessThan(5000);
  }, 180_000);

  it('Ctrl+C on a lone instance with a call: it waits for the call, and Ctrl+C again ends it at once', async () => {
    const lone = await HostProcess.start('drain-lone', { RUSTCHAT_CALLS_STATE_BACKEND: 'memory' });
    hosts.push(lone);
    const client = await lone.connect((await lone.login('Solo')).token);
    extra.push(client);
    expect(await client.send('join', { channelID: 'lone' })).toMatchObject({ ok: true });

    let exitedAt = 0;
    const stopped = lone.stop('SIGINT', 30_000).then(() => (exitedAt = Date.now()));
    await sleep(1500);
    expect(exitedAt).toBe(0);
    expect((await lone.http.get('/health')).status).toBe(503);
    expect(client.received('server_draining')).toEqual([]);

    const againAt = Date.now();
    process.kill(lone.pid, 'SIGINT');
    await stopped;
    const output = lone.output.join('\n');
    expect(output).toContain('drain ended by a second signal');
    expect(output).toMatch(/drained \[remaining=1,/);
    expect(exitedAt - againAt).toBeLessThan(5000);
  }, 60_000);
});
