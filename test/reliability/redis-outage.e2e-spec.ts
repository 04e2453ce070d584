import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CallStateRepository, DEFAULT_KEY_PREFIX } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import { CALLS_PATH, until } from '../support/calls-probe';
import { FaultRecorder } from '../support/fault-recorder';
import { Rng } from '../support/fuzz';
import { TestHostApp, type TestClient } from '../support/host-app';
import { type LoadOp, StateLoad } from '../support/state-load';
import { TcpProxy } from '../support/tcp-proxy';

const CLIENTS = 6;
/** Load timeline (ms from its start): Redis is SIGKILLed, restarted (empty), the load stops. */
const KILL_AT = 2500;
const RESTART_AT = 6000;
const STOP_AT = 10_000;

interface StoredSession {
  unmuted: boolean;
  raisedHand: number;
}
interface StoredCall {
  id: string;
  channelId: string;
  sessions: Record<string, StoredSession>;
}

/** A summary of acknowledgements by outcome, for log lines. */
function outcomes(ops: readonly LoadOp[]): string {
  const counts = new Map<string, number>();
  for (const op of ops) {
    const key = op.ok ? 'ok' : (op.code ?? '?');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
}

describe.each(['auto', 'redis'] as const)(
  'Redis SIGKILLed and restarted under load [%s]',
  (backend) => {
    let faults: FaultRecorder;
    let redisServer: TestRedisServer;
    let redis: Redis;
    let host: TestHostApp;
    let token = '';
    const clients: TestClient[] = [];

    beforeAll(async () => {
      faults = FaultRecorder.install();
      // Our own Redis: this suite kills it.
      redisServer = await TestRedisServer.start();
      redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      redis.on('error', () => undefined);
      host = await TestHostApp.start({
        RUSTCHAT_CALLS_STATE_BACKEND: backend,
        RUSTCHAT_REDIS_URL: redisServer.url,
        RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS: '100',
        RUSTCHAT_CALLS_WORKERS: '1',
        RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '500',
        // This suite is about Redis, not rate limits.
        RUSTCHAT_CALLS_WS_RATE: '100000',
        RUSTCHAT_CALLS_WS_BURST: '100000',
        RUSTCHAT_CALLS_HTTP_BURST: '100000',
        RUSTCHAT_CALLS_HTTP_RATE: '100000',
      });
      token = (await host.login('Outage Reader')).token;
      for (let i = 0; i < CLIENTS; i++) {
        clients.push(await host.connect((await host.login(`Outage ${i}`)).token));
      }
    }, 60_000);

    afterAll(async () => {
      await Promise.all(
        clients
          .filter((c) => c.socket.connected)
          .map((c) => c.send('leave').catch(() => undefined)),
      );
      clients.forEach((c) => c.close());
      await host?.close();
      redis?.disconnect();
      await redisServer?.stop();
      faults?.uninstall();
    });

    /** What clients are told about a channel (REST), as `{callId, sessions}`. */
    async function restView(channel: string): Promise<{ status: number; call?: StoredCall }> {
      const res = await host.http
        .get(`${CALLS_PATH}/${channel}`)
        .set('Authorization', `Bearer ${token}`);
      const call = (
        res.body as {
          call?: {
            id: string;
            sessions: { session_id: string; unmuted: boolean; raised_hand: number }[];
          };
        }
      ).call;
      if (!call) return { status: res.status };
      return {
        status: res.status,
        call: {
          id: call.id,
          channelId: channel,
          sessions: Object.fromEntries(
            call.sessions.map((s) => [
              s.session_id,
              { unmuted: s.unmuted, raisedHand: s.raised_hand },
            ]),
          ),
        },
      };
    }

    /** Every call state stored under `rustchat:calls:state:*`, by channel. */
    async function storedCalls(): Promise<Map<string, StoredCall>> {
      const keys = await redis.keys(`${DEFAULT_KEY_PREFIX}state:*`);
      const calls = new Map<string, StoredCall>();
      for (const key of keys) {
        const raw = JSON.parse((await redis.get(key))!) as StoredCall;
        calls.set(raw.channelId, {
          id: raw.id,
          channelId: raw.channelId,
          sessions: Object.fromEntries(
            Object.entries(raw.sessions).map(([id, s]) => [
              id,
              { unmuted: s.unmuted, raisedHand: s.raisedHand },
            ]),
          ),
        });
      }
      return calls;
    }

    it(
      backend === 'auto'
        ? 'auto: every operation succeeds through the outage; Redis converges to what the app reports'
        : 'redis: clear call_state_unavailable errors (and 503) during the outage, automatic recovery after',
      async () => {
        const channels = [1, 2, 3].map((i) => `outage-${i}-${randomBytes(3).toString('hex')}`);
        const load = new StateLoad(clients, channels, new Rng(backend === 'auto' ? 41 : 42));
        const restDuringOutage: number[] = [];
        // A client that will vanish during the outage: its session's grace expires while Redis is away.
        const vanishing = await host.connect((await host.login('Outage Vanisher')).token);
        const vanishAck = await vanishing.send<{ ok: boolean }>('join', { channelID: channels[0] });
        load.start();
        await sleep(KILL_AT);
        // Operations answered before the SIGKILL was sent must all succeed; one answered while the
        // killed server was still exiting may already see it gone, so it counts as "during".
        const killedAt = load.elapsed;
        await redisServer.kill();
        vanishing.close();
        while (load.elapsed < RESTART_AT) {
          restDuringOutage.push((await restView(channels[0])).status);
          await sleep(250);
        }
        await redisServer.restart();
        const restartedAt = load.elapsed;
        await sleep(Math.max(0, STOP_AT - load.elapsed));
        await load.stop();

        const before = load.ops.filter((o) => o.at < killedAt);
        const during = load.ops.filter((o) => o.at >= killedAt && o.at < restartedAt);
        const after = load.ops.filter((o) => o.at >= restartedAt);
        console.log(
          `[${backend}] ${load.ops.length} acknowledged operations; before kill: ${outcomes(before)} | ` +
            `Redis down ${restartedAt - killedAt} ms: ${outcomes(during)} | after restart: ${outcomes(after)}; ` +
            `REST during outage: ${restDuringOutage.join(',')}; vanisher join ${vanishAck.ok ? 'ok' : 'refused'}`,
        );
        expect(before.every((o) => o.ok)).toBe(true);
        expect(during.length).toBeGreaterThan(50);

        if (backend === 'auto') {
          // Zero failed operations, through the outage and the recovery.
          expect(load.ops.filter((o) => !o.ok)).toEqual([]);
          expect(vanishAck.ok).toBe(true);
          expect(restDuringOutage.every((s) => s === 200)).toBe(true);
          const repository = host.app.get<CallStateRepository>(CallStateRepository);
          await until(
            () => repository.status().mode === 'redis' && repository.status().pendingMerges === 0,
            20_000,
            'the auto backend back on Redis with nothing left to merge',
          );
          // Redis holds exactly what the app reports: the same calls with the same sessions.
          await until(
            async () => {
              const stored = await storedCalls();
              for (const channel of channels) {
                const view = await restView(channel);
                if (JSON.stringify(view.call) !== JSON.stringify(stored.get(channel))) return false;
              }
              return stored.size === channels.length;
            },
            10_000,
            'Redis and REST to agree',
            200,
          );
          const stored = await storedCalls();
          for (const channel of channels) {
            const view = await restView(channel);
            expect(view.call).toEqual(stored.get(channel));
            expect(Object.keys(view.call!.sessions).sort()).toEqual(
              [...(load.final.get(channel) ?? [])].sort(),
            );
          }
          expect(await redis.smembers(`${DEFAULT_KEY_PREFIX}active`)).toEqual(
            expect.arrayContaining([...stored.values()].map((c) => c.id)),
          );
          expect(await redis.scard(`${DEFAULT_KEY_PREFIX}active`)).toBe(stored.size);
        } else {
          // While Redis is away: only clear state errors, and at least some of them.
          const refused = during.filter((o) => !o.ok);
          expect(refused.length).toBeGreaterThan(0);
          for (const op of refused) {
            expect({ code: op.code, message: op.message }).toEqual({
              code: 'call_state_unavailable',
              message: expect.stringMatching(/unavailable/),
            });
          }
          expect(restDuringOutage.filter((s) => s !== 503)).toEqual([]);
          // After the restart the app recovers by itself: every client completes a fresh cycle.
          const recovered = after.filter((o) => o.at > restartedAt + 2000);
          expect(recovered.length).toBeGreaterThan(20);
          expect(recovered.filter((o) => !o.ok)).toEqual([]);
          expect([...load.final.values()].flat()).toHaveLength(CLIENTS);
          for (const channel of channels) {
            const view = await restView(channel);
            expect(view.status).toBe(200);
            expect(Object.keys(view.call!.sessions).sort()).toEqual(
              [...(load.final.get(channel) ?? [])].sort(),
            );
          }
        }
        // Then everyone leaves: nothing is left anywhere.
        for (const c of clients) expect(await c.send('leave')).toEqual({ ok: true });
        await until(
          async () => (await redis.keys(`${DEFAULT_KEY_PREFIX}state:*`)).length === 0,
          10_000,
          'no call state left in Redis',
        );
        for (const channel of channels) expect((await restView(channel)).call).toBeUndefined();
        expect(faults.describe()).toEqual([]);
      },
      90_000,
    );
  },
);

describe('Redis unreachable without losing data (a partition) [redis]', () => {
  let faults: FaultRecorder;
  let redisServer: TestRedisServer;
  let proxy: TcpProxy;
  let host: TestHostApp;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    faults = FaultRecorder.install();
    redisServer = await TestRedisServer.start();
    proxy = await TcpProxy.start(redisServer.port);
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
      RUSTCHAT_REDIS_URL: proxy.url,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '300',
    });
  });

  afterAll(async () => {
    await Promise.all(
      clients.filter((c) => c.socket.connected).map((c) => c.send('leave').catch(() => undefined)),
    );
    clients.forEach((c) => c.close());
    await host?.close();
    await proxy?.close();
    await redisServer?.stop();
    faults?.uninstall();
  });

  it('sessions that leave or vanish while Redis is unreachable are removed once it is back (no ghosts)', async () => {
    const channel = `partition-${randomBytes(4).toString('hex')}`;
    const [stays, leaves, vanishes] = await Promise.all(
      ['Stays', 'Leaves', 'Vanishes'].map(async (name) => {
        const client = await host.connect((await host.login(`Partition ${name}`)).token);
        clients.push(client);
        expect(await client.send('join', { channelID: channel })).toMatchObject({ ok: true });
        return client;
      }),
    );
    const { token } = await host.login('Partition Reader');
    const sessions = async () => {
      const res = await host.http
        .get(`${CALLS_PATH}/${channel}`)
        .set('Authorization', `Bearer ${token}`);
      if (res.status !== 200) return null;
      const call = (res.body as { call?: { sessions: { session_id: string }[] } }).call;
      return (call?.sessions ?? []).map((s) => s.session_id).sort();
    };
    expect(await sessions()).toHaveLength(3);

    proxy.cut();
    // The leave is refused clearly (the state cannot be written)...
    expect(await leaves.send('leave')).toMatchObject({
      ok: false,
      error: { code: 'call_state_unavailable' },
    });
    // ...and the vanished socket's grace expires while Redis is still away.
    vanishes.close();
    await sleep(1500);
    expect(await sessions()).toBeNull(); // 503 meanwhile
    proxy.restore();

    // Both are removed by the instance once Redis answers again; the one that stayed is untouched.
    await until(
      async () => JSON.stringify(await sessions()) === JSON.stringify([stays.connectionId]),
      15_000,
      'only the session that stayed to be left in the call',
      200,
    );
    expect(await stays.send('unmute')).toEqual({ ok: true });
    expect(faults.describe()).toEqual([]);
  }, 60_000);
});
