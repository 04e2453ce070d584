import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TestRedisServer } from '@app/calls/testing';
import type { TestClient } from './support/host-app';
import { HostProcess } from './support/host-process';

const channel = () => `multi-${randomBytes(4).toString('hex')}`;

/** Three host-app processes sharing one Redis (their own, on loopback). */
describe('many instances, one call', () => {
  let redis: TestRedisServer;
  let hosts: HostProcess[] = [];
  const clients: TestClient[] = [];

  const env = (i: number): Record<string, string> => ({
    RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
    RUSTCHAT_REDIS_URL: redis.url,
    RUSTCHAT_CALLS_INSTANCE_ID: `inst-${i}`,
    RUSTCHAT_CALLS_WORKERS: '1',
    RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
    RUSTCHAT_CALLS_HEARTBEAT_MS: '500',
    RUSTCHAT_CALLS_INSTANCE_TTL_MS: '2000',
    RUSTCHAT_CALLS_WS_BURST: '10000',
    RUSTCHAT_CALLS_HTTP_BURST: '10000',
    RUSTCHAT_CALLS_DRAIN_TIMEOUT_MS: '10000',
    DEMO_AUTH_SECRET: 'multi-instance-test-secret',
  });

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    hosts = await Promise.all([1, 2, 3].map((i) => HostProcess.start(`inst-${i}`, env(i))));
  }, 120_000);

  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    await redis.stop();
  });

  async function join(host: HostProcess, name: string, ch: string): Promise<TestClient> {
    const { token } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    const ack = await client.send<{ ok: boolean }>('join', { channelID: ch });
    expect(ack).toMatchObject({ ok: true });
    return client;
  }

  it('participants spread over three instances (2 + 2 + 2): one call state everywhere, events reach everyone', async () => {
    const ch = channel();
    const people: TestClient[] = [];
    for (const [i, host] of hosts.entries()) {
      people.push(await join(host, `P${i}a`, ch), await join(host, `P${i}b`, ch));
    }
    const sessionIds = people.map((p) => p.connectionId).sort();
    for (const host of hosts) expect(await host.sessionIds(ch)).toEqual(sessionIds);
    // Everyone saw everyone who joined after them, whatever instance they are on.
    for (const [i, p] of people.entries()) {
      for (const later of people.slice(i + 1)) {
        await p.waitFor('user_joined', (e) => e.data.session_id === later.connectionId);
      }
    }
    await people[5].send('raise_hand');
    for (const p of people)
      await p.waitFor('user_raise_hand', (e) => e.data.session_id === people[5].connectionId);
  }, 60_000);

  it('a join storm: 300 joins spread over the instances at once make one call, no lost or duplicated session', async () => {
    const ch = channel();
    const tokens = await Promise.all(
      Array.from({ length: 300 }, (_, i) => hosts[i % 3].login(`Storm${i}`)),
    );
    const sockets = await Promise.all(tokens.map(({ token }, i) => hosts[i % 3].connect(token)));
    clients.push(...sockets);
    const acks = await Promise.all(
      sockets.map((s) => s.send<{ ok: boolean; connID: string }>('join', { channelID: ch })),
    );
    expect(acks.filter((a) => !a.ok)).toEqual([]);
    const expected = sockets.map((s) => s.connectionId).sort();
    expect(new Set(expected).size).toBe(300);
    for (const host of hosts) expect(await host.sessionIds(ch)).toEqual(expected);
    const r = new Redis(redis.url);
    const callIds = await r.smembers('rustchat:calls:active');
    const forChannel = [];
    for (const id of callIds) {
      const state = JSON.parse((await r.get(`rustchat:calls:state:${id}`)) ?? '{}') as {
        channelId?: string;
      };
      if (state.channelId === ch) forChannel.push(id);
    }
    r.disconnect();
    expect(forChannel).toHaveLength(1);
  }, 120_000);

  it('SIGTERM drains an instance: its participants move to another instance and nobody loses the call', async () => {
    const ch = channel();
    const stay = [await join(hosts[0], 'Stay1', ch), await join(hosts[2], 'Stay3', ch)];
    const names = ['Move1', 'Move2'];
    const moving = [await join(hosts[1], names[0], ch), await join(hosts[1], names[1], ch)];
    const moved: TestClient[] = [];
    // What the calls page does on `server_draining`: join through another instance, then leave here.
    const movedAll = Promise.all(
      moving.map(async (client, i) => {
        await client.waitFor('server_draining', undefined, 20_000);
        const { token } = await hosts[0].login(names[i]);
        const next = await hosts[0].connect(token);
        clients.push(next);
        expect(await next.send('join', { channelID: ch })).toMatchObject({ ok: true });
        await client.send('leave').catch(() => undefined);
        moved.push(next);
      }),
    );
    const stopped = hosts[1].stop('SIGTERM');
    await movedAll;
    await stopped;
    const expected = [...stay, ...moved].map((c) => c.connectionId).sort();
    expect(await hosts[0].sessionIds(ch)).toEqual(expected);
    expect(stay.every((c) => c.received('call_end').length === 0)).toBe(true);
    const drained = hosts[1].output.find((l) => l.includes('drained')) ?? '';
    console.log(drained);
    expect(drained).toContain('remaining=0');
  }, 60_000);

  it('SIGKILL of an instance: its sessions leave the call state within 10 s, the call goes on', async () => {
    const ch = channel();
    const survivors = [await join(hosts[0], 'Alive1', ch), await join(hosts[0], 'Alive2', ch)];
    const doomed = [await join(hosts[2], 'Doomed1', ch), await join(hosts[2], 'Doomed2', ch)];
    const killedAt = Date.now();
    await hosts[2].stop('SIGKILL');
    for (const d of doomed) {
      await survivors[0].waitFor('user_left', (e) => e.data.session_id === d.connectionId, 10_000);
    }
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(10_000);
    expect(await hosts[0].sessionIds(ch)).toEqual(survivors.map((c) => c.connectionId).sort());
    // The killed instance's participants rejoin through a surviving instance.
    const back = await join(hosts[0], 'Doomed1', ch);
    await survivors[1].waitFor('user_joined', (e) => e.data.session_id === back.connectionId);
    console.log(`instance death noticed and its sessions removed after ${tookMs} ms`);
  }, 60_000);
});
