import { Test, type TestingModule } from '@nestjs/testing';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CallsModule } from '../calls.module';
import { testRedisUrl } from '../testing/test-redis-url';
import { CallStateRepository } from './call-state.repository';
import type { CallSessionState } from './call-state.types';
import { MemoryCallStateStore } from './memory-call-state.store';
import { VersionedCallStateRepository } from './versioned-call-state.repository';

const INSTANCES = 6;
const SESSIONS_PER_INSTANCE = 50;

const session = (instanceId: string, i: number): CallSessionState => ({
  sessionId: `${instanceId}-s${i}`,
  userId: `${instanceId}-u${i}`,
  unmuted: false,
  raisedHand: 0,
  video: false,
  joinAt: Date.now(),
  instanceId,
});

/** Concurrent writers through different repositories: the instances of a deployment. */
async function raceJoins(repos: CallStateRepository[], channelId: string): Promise<void> {
  await Promise.all(
    repos.flatMap((repo, r) =>
      Array.from({ length: SESSIONS_PER_INSTANCE }, (_, i) =>
        repo.joinCall({ channelId, ownerId: `inst${r}-u${i}` }, session(`inst${r}`, i)),
      ),
    ),
  );
}

function expectAllSessions(sessions: Record<string, unknown>): void {
  const expected = Array.from({ length: INSTANCES }, (_, r) =>
    Array.from({ length: SESSIONS_PER_INSTANCE }, (_, i) => `inst${r}-s${i}`),
  ).flat();
  expect(Object.keys(sessions).sort()).toEqual(expected.sort());
}

describe('compare-and-swap: no lost updates between instances', () => {
  describe('memory: repositories sharing one store', () => {
    const store = new MemoryCallStateStore();
    const status = () => ({
      backend: 'memory' as const,
      mode: 'memory' as const,
      redisReachable: null,
      fallbacks: 0,
      pendingMerges: 0,
    });
    const repos = Array.from(
      { length: INSTANCES },
      () => new VersionedCallStateRepository(store, status, { maxCasAttempts: 1000 }),
    );

    it(`${INSTANCES}×${SESSIONS_PER_INSTANCE} concurrent joins: one call, every session present`, async () => {
      const channelId = randomUUID();
      await raceJoins(repos, channelId);
      const calls = await store.listActive();
      expect(calls.filter((c) => c.channelId === channelId)).toHaveLength(1);
      expectAllSessions(calls[0].sessions);
      // The writers really raced: some compare-and-swaps lost and were retried.
      expect(repos.reduce((n, r) => n + r.status().casConflicts, 0)).toBeGreaterThan(0);
    });

    it('two racing "start call in channel" yield one call', async () => {
      const channelId = randomUUID();
      const results = await Promise.all(
        repos.map((r, i) => r.startCall({ channelId, ownerId: `u${i}` })),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.call.id)).size).toBe(1);
    });
  });

  describe('redis: one connection per instance', () => {
    const prefix = `test:cas:${randomUUID()}:`;
    let modules: TestingModule[] = [];
    let repos: CallStateRepository[] = [];
    let redis: Redis;

    beforeAll(async () => {
      modules = await Promise.all(
        Array.from({ length: INSTANCES }, (_, i) =>
          Test.createTestingModule({
            imports: [
              CallsModule.forRoot({
                stateBackend: 'redis',
                redisUrl: testRedisUrl(),
                redisKeyPrefix: prefix,
                instanceId: `inst${i}`,
              }),
            ],
          }).compile(),
        ),
      );
      await Promise.all(modules.map((m) => m.init()));
      repos = modules.map((m) => m.get(CallStateRepository));
      redis = new Redis(testRedisUrl());
    });

    afterAll(async () => {
      await Promise.all(modules.map((m) => m.close()));
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it(`${INSTANCES}×${SESSIONS_PER_INSTANCE} concurrent joins: one call, every session in Redis`, async () => {
      const channelId = randomUUID();
      await raceJoins(repos, channelId);
      const callId = await redis.get(`${prefix}channel:${channelId}`);
      const stored = JSON.parse((await redis.get(`${prefix}state:${callId}`)) ?? '{}');
      expectAllSessions(stored.sessions);
      expect(await redis.scard(`${prefix}active`)).toBe(1);
      expect(repos.reduce((n, r) => n + r.status().casConflicts, 0)).toBeGreaterThan(0);
    });

    it('racing "start call in channel" on every connection yields one call', async () => {
      const channelId = randomUUID();
      const results = await Promise.all(
        repos.map((r, i) => r.startCall({ channelId, ownerId: `u${i}` })),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.call.id)).size).toBe(1);
    });

    it('concurrent leaves and joins keep exactly the sessions that stayed', async () => {
      const channelId = randomUUID();
      await raceJoins(repos, channelId);
      const call = (await repos[0].getCallByChannel(channelId))!;
      // Every instance removes its odd sessions while the others keep changing theirs.
      await Promise.all(
        repos.flatMap((repo, r) =>
          Array.from({ length: SESSIONS_PER_INSTANCE }, (_, i) =>
            i % 2 === 1
              ? repo.removeSession(call.id, `inst${r}-s${i}`)
              : repo.setMuted(call.id, `inst${r}-s${i}`, false),
          ),
        ),
      );
      const after = (await repos[1].getCall(call.id))!;
      const ids = Object.keys(after.sessions);
      expect(ids).toHaveLength((INSTANCES * SESSIONS_PER_INSTANCE) / 2);
      expect(Object.values(after.sessions).every((s) => s.unmuted)).toBe(true);
    });
  });

  describe('redis: separate processes', () => {
    const prefix = `test:cas-proc:${randomUUID()}:`;
    const PROCESSES = 4;
    const PER_PROCESS = 40;

    afterAll(async () => {
      const redis = new Redis(testRedisUrl());
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it(`${PROCESSES} processes × ${PER_PROCESS} concurrent joins: one call with every session`, async () => {
      const channelId = randomUUID();
      const script = join(__dirname, '../../../../test/fixtures/state-writer.ts');
      const children = Array.from({ length: PROCESSES }, (_, i) =>
        spawn(
          process.execPath,
          [
            '-r',
            'ts-node/register/transpile-only',
            '-r',
            'tsconfig-paths/register',
            script,
            testRedisUrl(),
            prefix,
            `proc${i}`,
            channelId,
            String(PER_PROCESS),
          ],
          {
            stdio: ['pipe', 'pipe', 'inherit'],
            env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.json' },
          },
        ),
      );
      const lines = children.map((child) => {
        const received: string[] = [];
        let buffer = '';
        const ready = new Promise<void>((resolve) => {
          child.stdout.on('data', (d: Buffer) => {
            buffer += d.toString();
            const parts = buffer.split('\n');
            buffer = parts.pop() ?? '';
            for (const line of parts) {
              received.push(line);
              if (line === 'ready') resolve();
            }
          });
        });
        const done = new Promise<{ failed: string[]; casConflicts: number }>((resolve, reject) => {
          child.on('exit', (code) =>
            code === 0
              ? resolve(JSON.parse(received[received.length - 1]))
              : reject(new Error(`writer exited ${code}`)),
          );
        });
        return { ready, done };
      });
      await Promise.all(lines.map((l) => l.ready));
      children.forEach((c) => c.stdin.end('go\n'));
      const outputs = lines.map((l) => l.done);
      const results = await Promise.all(outputs);
      expect(results.flatMap((r) => r.failed)).toEqual([]);

      const redis = new Redis(testRedisUrl());
      const callId = await redis.get(`${prefix}channel:${channelId}`);
      const stored = JSON.parse((await redis.get(`${prefix}state:${callId}`)) ?? '{}');
      redis.disconnect();
      expect(Object.keys(stored.sessions)).toHaveLength(PROCESSES * PER_PROCESS);
      expect(stored.version).toBeGreaterThan(1);
      // Most of it is four ts-node processes starting: on a loaded machine, tens of seconds.
    }, 90_000);
  });
});
