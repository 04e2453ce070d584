import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer, type WrtcTestPeer } from '@app/calls/testing';
import { AudioContinuity, type TonePeer } from '../support/audio-continuity';
import type { TestClient } from '../support/host-app';
import { HostProcess } from '../support/host-process';
import { connectThrough, MovingPeer } from '../support/moving-peer';
import { SpreadCall, SPREAD_TONES } from '../support/spread-call';
import { TcpProxy } from '../support/tcp-proxy';
import { instanceEnv } from '../support/instance-env';

/**
 * A Mattermost client whose signaling connection drops and comes back through another instance
 * (a TCP proxy in front of two instances switches its backend, as a load balancer would): it sends
 * `reconnect` there and keeps its session, whose media stays on the first instance. Its actions
 * are relayed there over the instance bus, what that instance sends it (server offers) reaches it
 * through the second one, and nobody stops hearing anybody.
 */
describe('reconnect through another instance', () => {
  let redisServer: TestRedisServer;
  let redis: Redis;
  let proxy: TcpProxy;
  const hosts: HostProcess[] = [];
  const extra: TestClient[] = [];
  let call: SpreadCall | null = null;
  let moving: WrtcTestPeer | null = null;

  const instanceId = (i: number) => `moving-${i + 1}`;

  beforeAll(async () => {
    redisServer = await TestRedisServer.start();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    hosts.push(
      ...(await Promise.all(
        [0, 1].map((i) =>
          HostProcess.start(
            instanceId(i),
            instanceEnv(redisServer.url, instanceId(i), {
              RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '10000',
              DEMO_AUTH_SECRET: 'moving-secret',
            }),
          ),
        ),
      )),
    );
    proxy = await TcpProxy.start(hosts[0].port);
  }, 120_000);

  afterAll(async () => {
    moving?.close();
    await call?.close();
    for (const c of extra) c.close();
    await proxy?.close();
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    redis?.disconnect();
    await redisServer?.stop();
  });

  function hears(listener: TonePeer, tones: number[]): boolean {
    const heard = listener.peer
      .heardTones(SPREAD_TONES, 0.5)
      .filter((h) => h.share > 0.8 && h.power > 0.001)
      .map((h) => h.frequencyHz)
      .sort((a, b) => a - b);
    return JSON.stringify(heard) === JSON.stringify([...tones].sort((a, b) => a - b));
  }

  async function allHear(people: TonePeer[], timeoutMs = 60_000): Promise<void> {
    await Promise.all(
      people.map((p) =>
        p.peer.waitFor(
          () =>
            hears(
              p,
              people.filter((o) => o !== p).map((o) => o.tone),
            ),
          timeoutMs,
          `${p.name} hearing the ${people.length - 1} others`,
        ),
      ),
    );
  }

  it('keeps its call: media stays where it is, signaling is relayed, no audio gap, then it leaves through the new instance', async () => {
    const channel = `moving-${randomBytes(4).toString('hex')}`;
    const spread = new SpreadCall(channel, redis);
    call = spread;
    // P connects through the proxy, which sends it to instance 1.
    const { token } = await hosts[0].login('Pat');
    const first = await connectThrough(proxy.port, token);
    extra.push(first);
    expect(await first.send('join', { channelID: channel })).toMatchObject({ ok: true });
    const sessionId = first.connectionId;
    const pat = new MovingPeer(first, sessionId, 'Pat');
    moving = await pat.peer;
    const patTone = SPREAD_TONES[6];
    moving.addTone(patTone);
    await first.send('unmute');
    const p: TonePeer = { name: 'Pat', peer: moving, tone: patTone };
    const q = await spread.join(hosts[0], instanceId(0), 'Quinn');
    const r = await spread.join(hosts[1], instanceId(1), 'Remy');
    await moving.waitConnected(20_000);
    await allHear([p, q, r]);
    const monitor = await AudioContinuity.start([p, q, r], SPREAD_TONES);
    await sleep(1500);

    // The load balancer now sends Pat to instance 2; Pat's WebSocket drops and comes back there.
    proxy.retarget(hosts[1].port);
    proxy.cut();
    proxy.restore();
    const droppedAt = Date.now();
    const second = await connectThrough(proxy.port, token);
    extra.push(second);
    const ack = await second.send<{ ok: boolean; connID?: string }>('reconnect', {
      channelID: channel,
      originalConnID: sessionId,
      prevConnID: first.connectionId,
    });
    const reconnectMs = Date.now() - droppedAt;
    expect(ack).toMatchObject({ ok: true, connID: sessionId });
    pat.moveTo(second);
    const stored = (await spread.stored())!;
    // Still one session, still served (media) by instance 1.
    expect(stored.sessions[sessionId]?.instanceId).toBe(instanceId(0));
    expect(Object.keys(stored.sessions)).toHaveLength(3);

    // Audio measured through the drop and the reconnect, and 3 s beyond.
    await sleep(3000);
    const gaps = await monitor.stop();

    // Actions go through instance 2 to instance 1: mute stops Pat's voice for the others.
    expect(await second.send('mute')).toEqual({ ok: true });
    await r.client.waitFor('user_muted', (e) => e.data.session_id === sessionId, 5000);
    await sleep(500);
    q.peer.resetAudio();
    r.peer.resetAudio();
    await sleep(1500);
    for (const o of [q, r]) expect(hears(o, [patTone])).toBe(false);
    expect(await second.send('unmute')).toEqual({ ok: true });
    await allHear([p, q, r]);

    // Renegotiation through instance 2: a newcomer's track is offered to Pat by instance 1.
    const s = await spread.join(hosts[1], instanceId(1), 'Sam');
    await allHear([p, q, r, s]);
    expect(moving.errors).toEqual([]);

    // Back through instance 1 (the connection on instance 2 drops: the grace period runs on
    // instance 1, which holds the session; the reconnect there takes it over).
    proxy.retarget(hosts[0].port);
    proxy.cut();
    proxy.restore();
    await sleep(500);
    const third = await connectThrough(proxy.port, token);
    extra.push(third);
    expect(
      await third.send('reconnect', {
        channelID: channel,
        originalConnID: sessionId,
        prevConnID: second.connectionId,
      }),
    ).toMatchObject({ ok: true, connID: sessionId });
    pat.moveTo(third);
    expect(await third.send('raise_hand')).toEqual({ ok: true });
    await q.client.waitFor('user_raise_hand', (e) => e.data.session_id === sessionId, 5000);

    // And once more through instance 2, to leave from there: the session ends where it is served.
    proxy.retarget(hosts[1].port);
    proxy.cut();
    proxy.restore();
    const fourth = await connectThrough(proxy.port, token);
    extra.push(fourth);
    expect(
      await fourth.send('reconnect', {
        channelID: channel,
        originalConnID: sessionId,
        prevConnID: third.connectionId,
      }),
    ).toMatchObject({ ok: true, connID: sessionId });
    expect(await fourth.send('leave')).toEqual({ ok: true });
    await q.client.waitFor('user_left', (e) => e.data.session_id === sessionId, 5000);
    const after = (await spread.stored())!;
    expect(Object.keys(after.sessions)).not.toContain(sessionId);
    moving.close();
    moving = null;
    const silent = gaps.filter((g) => g.silentSeconds > 0);
    console.log(
      `reconnect through another instance: acknowledged ${reconnectMs} ms after the drop; seconds without audio ` +
        `(all pairs, ${Math.min(...gaps.map((g) => g.seconds))}+ s each): ${silent.length === 0 ? 'none' : silent.map((g) => `${g.listener}<-${g.speaker}=${g.silentSeconds}`).join(' ')}; ` +
        `mute, unmute, a server offer and the leave went through the new instance; back and forth between instances within the grace`,
    );
    expect(silent).toEqual([]);
  }, 180_000);
});
