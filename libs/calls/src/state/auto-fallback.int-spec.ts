import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CallsModule } from '../calls.module';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { TestRedisServer } from '../testing/redis-server';
import { CallStateRepository } from './call-state.repository';
import type { StateBackendMode } from '../config/state-backend-mode';

const PREFIX = 'rustchat:calls:';

async function boot(backend: StateBackendMode, redisUrl: string): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CallsModule.forRoot({
        stateBackend: backend,
        redisUrl,
        instanceId: 'inst-a',
        redisProbeIntervalMs: 100,
        redisCommandTimeoutMs: 500,
      }),
    ],
  }).compile();
  return moduleRef.init();
}

/** Reads what Redis holds: channel → sorted session ids. */
async function redisView(redis: Redis): Promise<Map<string, string[]>> {
  const view = new Map<string, string[]>();
  for (const callId of await redis.smembers(`${PREFIX}active`)) {
    const text = await redis.get(`${PREFIX}state:${callId}`);
    if (!text) continue;
    const call = JSON.parse(text) as { channelId: string; sessions: Record<string, unknown> };
    if ((await redis.get(`${PREFIX}channel:${call.channelId}`)) !== callId) continue;
    view.set(call.channelId, Object.keys(call.sessions).sort());
  }
  return view;
}

describe('auto backend: Redis dies mid-stream and comes back', () => {
  let server: TestRedisServer;
  let moduleRef: TestingModule;
  let repo: CallStateRepository;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    warn = jest.spyOn(Logger.prototype, 'warn');
    log = jest.spyOn(Logger.prototype, 'log');
    moduleRef = await boot('auto', server.url);
    repo = moduleRef.get(CallStateRepository);
  });

  afterAll(async () => {
    await moduleRef.close();
    await server.stop();
    warn.mockRestore();
    log.mockRestore();
  });

  it('loses no operation and converges in Redis within 5 s after the restart', async () => {
    let fallbacksDuringOutage = 0;
    const done = await workload(repo, async () => {
      await server.kill();
      await sleep(1500);
      expect(repo.status()).toMatchObject({
        backend: 'auto',
        mode: 'degraded',
        redisReachable: false,
      });
      fallbacksDuringOutage = repo.status().fallbacks;
      await server.restart();
    });
    expect(done.failures).toEqual([]);
    expect(done.operations).toBeGreaterThan(200);
    expect(fallbacksDuringOutage).toBeGreaterThan(50);
    await expectConverged(server, repo, done, done.faultEndedAt);
    expect(logged(warn, 'Redis unavailable, call state continues in local memory')).toBe(1);
    expect(logged(log, 'Redis is back')).toBe(1);
  }, 30_000);

  it('loses no operation when Redis stalls past the command timeout and answers late', async () => {
    // Commands sent in the stall's last 500 ms do not time out: their replies come after the
    // first timeout has switched the store to memory, and must not undo what memory did since.
    const fallbacksBefore = repo.status().fallbacks;
    const done = await workload(repo, () => server.stall(900));
    expect(done.failures).toEqual([]);
    expect(done.operations).toBeGreaterThan(100);
    expect(repo.status().fallbacks).toBeGreaterThan(fallbacksBefore);
    await expectConverged(server, repo, done, done.faultEndedAt);
  }, 30_000);
});

/** What a {@link workload} did. */
interface Workload {
  /** The channels it used. */
  readonly channels: readonly string[];
  /** Channel → sorted ids of the sessions that joined and did not leave. */
  readonly expected: Map<string, string[]>;
  readonly failures: unknown[];
  readonly operations: number;
  readonly faultEndedAt: number;
}

/**
 * Six workers join, mute, raise hands and leave in four channels, 1 s before `fault`, during it,
 * and 1 s after it.
 */
async function workload(repo: CallStateRepository, fault: () => Promise<void>): Promise<Workload> {
  const channels = Array.from({ length: 4 }, () => randomUUID());
  const model = new Map<string, Set<string>>(channels.map((c) => [c, new Set()]));
  const failures: unknown[] = [];
  let operations = 0;
  let running = true;

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const channelId = channels[(w + i) % channels.length];
      const sessionId = `w${w}-s${i}`;
      try {
        const { call } = await repo.joinCall(
          { channelId, ownerId: `u${w}` },
          {
            sessionId,
            userId: `u${w}`,
            unmuted: false,
            raisedHand: 0,
            video: false,
            joinAt: Date.now(),
            instanceId: 'inst-a',
          },
        );
        model.get(channelId)!.add(sessionId);
        await repo.setMuted(call.id, sessionId, i % 2 === 0);
        await repo.setRaisedHand(call.id, sessionId, i % 3 === 0);
        if (i % 4 !== 0) {
          // Leave an older session of this worker in this channel (most sessions are short).
          const old = [...model.get(channelId)!].find(
            (s) => s.startsWith(`w${w}-`) && s !== sessionId,
          );
          if (old) {
            await repo.removeSession(call.id, old);
            model.get(channelId)!.delete(old);
          }
        }
        operations += 4;
      } catch (err) {
        failures.push(err);
      }
      await sleep(5);
    }
  };

  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  await sleep(1000);
  await fault();
  const faultEndedAt = Date.now();
  await sleep(1000);
  running = false;
  await Promise.all(workers);
  const expected = new Map(
    [...model].filter(([, s]) => s.size > 0).map(([c, s]) => [c, [...s].sort()]),
  );
  return { channels, expected, failures, operations, faultEndedAt };
}

/**
 * Within 5 s after `since`, Redis holds what the workload expects in its channels and the
 * repository serves from Redis.
 */
async function expectConverged(
  server: TestRedisServer,
  repo: CallStateRepository,
  { channels, expected }: Pick<Workload, 'channels' | 'expected'>,
  since: number,
): Promise<void> {
  const redis = new Redis(server.url);
  const read = async () =>
    new Map([...(await redisView(redis))].filter(([channel]) => channels.includes(channel)));
  let view = await read();
  const converged = () =>
    JSON.stringify([...view].sort()) === JSON.stringify([...expected].sort()) &&
    repo.status().mode === 'redis';
  while (!converged()) {
    if (Date.now() - since > 5000) break;
    await sleep(50);
    view = await read();
  }
  const convergedAfterMs = Date.now() - since;
  redis.disconnect();
  expect([...view].sort()).toEqual([...expected].sort());
  expect(convergedAfterMs).toBeLessThanOrEqual(5000);
  expect(repo.status()).toMatchObject({ mode: 'redis', redisReachable: true, pendingMerges: 0 });
}

/** How many times `spy` was called with a message containing `text`. */
function logged(spy: jest.SpyInstance, text: string): number {
  return spy.mock.calls.filter(([m]) => typeof m === 'string' && m.includes(text)).length;
}

describe('redis backend: clear errors during an outage, recovery after', () => {
  let server: TestRedisServer;
  let moduleRef: TestingModule;
  let repo: CallStateRepository;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    moduleRef = await boot('redis', server.url);
    repo = moduleRef.get(CallStateRepository);
  });

  afterAll(async () => {
    await moduleRef.close();
    await server.stop();
  });

  it('fails operations with CallStateUnavailableError while Redis is down, then works again', async () => {
    const channelId = randomUUID();
    await repo.startCall({ channelId, ownerId: 'u1' });
    await server.kill();
    await expect(repo.getCallByChannel(channelId)).rejects.toBeInstanceOf(
      CallStateUnavailableError,
    );
    // The status follows the connection's close event, which may trail the first failed command.
    for (let i = 0; i < 40 && repo.status().mode !== 'degraded'; i++) await sleep(50);
    expect(repo.status()).toMatchObject({
      backend: 'redis',
      mode: 'degraded',
      redisReachable: false,
    });
    await expect(repo.startCall({ channelId: randomUUID(), ownerId: 'u1' })).rejects.toThrow(
      'call state backend unavailable',
    );

    await server.restart();
    const deadline = Date.now() + 5000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      recovered = await repo.startCall({ channelId, ownerId: 'u1' }).then(
        () => true,
        () => false,
      );
      if (!recovered) await sleep(50);
    }
    expect(recovered).toBe(true);
    expect(repo.status()).toMatchObject({ mode: 'redis', redisReachable: true });
  }, 20_000);
});

describe.each<StateBackendMode>(['auto', 'redis'])(
  'channel settings while Redis is away [%s]',
  (backend) => {
    let server: TestRedisServer;
    let moduleRef: TestingModule;
    let repo: CallStateRepository;

    beforeAll(async () => {
      server = await TestRedisServer.start();
      moduleRef = await boot(backend, server.url);
      repo = moduleRef.get(CallStateRepository);
    });

    afterAll(async () => {
      await moduleRef.close();
      await server.stop();
    });

    it(
      backend === 'auto'
        ? 'serves them from memory during the outage, from Redis again when it is back'
        : 'fails with CallStateUnavailableError during the outage, works again after',
      async () => {
        const [disabled, changed] = [randomUUID(), randomUUID()];
        await repo.setChannelEnabled(disabled, false);

        await server.kill();

        if (backend === 'auto') {
          expect(await repo.isChannelEnabled(disabled)).toBe(false);
          await repo.setChannelEnabled(changed, false);
          expect(await repo.isChannelEnabled(changed)).toBe(false);
          expect(repo.status()).toMatchObject({ mode: 'degraded' });
          expect(repo.status().fallbacks).toBeGreaterThan(0);
        } else {
          await expect(repo.isChannelEnabled(disabled)).rejects.toBeInstanceOf(
            CallStateUnavailableError,
          );
          await expect(repo.setChannelEnabled(changed, false)).rejects.toBeInstanceOf(
            CallStateUnavailableError,
          );
        }

        // Redis comes back empty: the settings read from now on are what it holds.
        await server.restart();
        const redis = new Redis(server.url);
        const written = randomUUID();
        await redis.hset(`${PREFIX}channels`, written, '0');
        const deadline = Date.now() + 5000;
        let enabled: boolean | null = null;
        while (enabled !== false && Date.now() < deadline) {
          // The redis backend may fail a command or two until it has reconnected.
          enabled = await repo.isChannelEnabled(written).catch(() => null);
          if (enabled !== false) await sleep(50);
        }
        redis.disconnect();
        expect(enabled).toBe(false);
        expect(repo.status()).toMatchObject({ mode: 'redis', redisReachable: true });
      },
      20_000,
    );
  },
);
