import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer } from '@app/calls/testing';
import { AudioContinuity } from '../support/audio-continuity';
import { HostProcess } from '../support/host-process';
import { SpreadCall, SPREAD_TONES } from '../support/spread-call';
import { instanceEnv } from '../support/instance-env';

/** Long enough that the restarted instance is back well within it. */
const TTL_MS = 20_000;

/**
 * An instance SIGKILLed and started again with the same instance id, within the TTL (its key has
 * not expired): the other instance notices the new process (its boot id) and drops its pipes to
 * the old one, the new process removes the old one's sessions from the call (`user_left`), and
 * the participants elsewhere keep hearing each other; the old participants rejoin and are heard.
 */
describe('an instance restarted with the same id within the TTL', () => {
  let redisServer: TestRedisServer;
  let redis: Redis;
  const hosts: HostProcess[] = [];
  let call: SpreadCall | null = null;

  const env = (i: number): Record<string, string> =>
    instanceEnv(redisServer.url, `same-id-${i + 1}`, {
      DEMO_AUTH_SECRET: 'same-id-secret',
      RUSTCHAT_CALLS_INSTANCE_TTL_MS: String(TTL_MS),
    });

  beforeAll(async () => {
    redisServer = await TestRedisServer.start();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    hosts.push(
      ...(await Promise.all([0, 1].map((i) => HostProcess.start(`same-id-${i + 1}`, env(i))))),
    );
  }, 120_000);

  afterAll(async () => {
    await call?.close();
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    redis?.disconnect();
    await redisServer?.stop();
  });

  async function pipes(host: HostProcess): Promise<number> {
    const res = await host.http.get('/metrics').expect(200);
    return Number(/^calls_sfu_objects\{kind="pipes"\} (\d+)$/m.exec(res.text)?.[1] ?? -1);
  }

  it('the old sessions leave and the pipes to the old process close, long before the TTL; the others keep hearing each other', async () => {
    const spread = new SpreadCall(`same-id-${randomBytes(4).toString('hex')}`, redis);
    call = spread;
    const a1 = await spread.join(hosts[0], 'same-id-1', 'A1');
    const a2 = await spread.join(hosts[0], 'same-id-1', 'A2');
    const b1 = await spread.join(hosts[1], 'same-id-2', 'B1');
    await spread.allHearEachOther();
    const callId = (await spread.stored())!.id;
    expect(await pipes(hosts[0])).toBe(2);
    const monitor = await AudioContinuity.start([a1, a2], SPREAD_TONES);
    const mark = hosts[0].output.length;

    await hosts[1].stop('SIGKILL');
    b1.peer.close();
    const killedAt = Date.now();
    hosts[1] = await HostProcess.start('same-id-2', env(1));
    const bootMs = Date.now() - killedAt;
    for (const a of [a1, a2]) {
      await a.client.waitFor(
        'user_left',
        (e) => e.data.session_id === b1.client.connectionId,
        15_000,
      );
    }
    const leftMs = Date.now() - killedAt;
    while ((await pipes(hosts[0])) !== 0 && Date.now() - killedAt < 15_000) await sleep(100);
    const pipesClosedMs = Date.now() - killedAt;
    expect(await pipes(hosts[0])).toBe(0);
    expect(
      hosts[0].output.slice(mark).some((l) => l.includes('instance restarted under the same id')),
    ).toBe(true);
    // Long before the old key would have expired.
    expect(leftMs).toBeLessThan(TTL_MS);
    const stored = (await spread.stored())!;
    expect(stored.id).toBe(callId);
    expect(Object.keys(stored.sessions).sort()).toEqual(
      [a1.client.connectionId, a2.client.connectionId].sort(),
    );
    const gaps = await monitor.stop();

    // B1 comes back through the new process and is heard again.
    b1.client.close();
    spread.people.splice(spread.people.indexOf(b1), 1);
    const back = await spread.join(hosts[1], 'same-id-2', 'B1again');
    const rejoinedAt = Date.now();
    for (const a of [a1, a2]) a.peer.resetAudio();
    await spread.allHearEachOther();
    console.log(
      `instance restarted with the same id: new process up ${bootMs} ms after the SIGKILL; its old session left ${leftMs} ms ` +
        `and the pipes to it closed ${pipesClosedMs} ms after the SIGKILL (TTL ${TTL_MS} ms); seconds without audio between the ` +
        `two others: ${gaps.map((g) => g.silentSeconds).reduce((x, y) => x + y, 0)}; the rejoined participant heard and hears ` +
        `${Date.now() - rejoinedAt} ms after rejoining`,
    );
    expect(gaps.filter((g) => g.silentSeconds > 0)).toEqual([]);
    expect(await spread.converged(callId, ['same-id-1', 'same-id-2'])).toBe(true);
    expect(back.peer.errors).toEqual([]);
  }, 180_000);
});
