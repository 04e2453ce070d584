/**
 * State store benchmark: the Redis-backed repository next to a raw ioredis round trip of the same
 * payload size, in the same run, against a throwaway redis-server; the memory backend; and what a
 * fallback costs in `auto` mode while Redis is down. The Redis pairs run STATE_ROUNDS times (5);
 * the table shows the median round and the range of the ratio.
 */
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { CallsModule, CallStateRepository, type StateBackendMode } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import { envNumber } from './lib/env';
import { percentile, printTable, type Row, runLoad, type Samples, summarize } from './lib/measure';

const CALLS = 50;
const SESSIONS_PER_CALL = 8;

async function repository(backend: StateBackendMode, redisUrl: string, prefix: string) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CallsModule.forRoot({
        stateBackend: backend,
        redisUrl,
        redisKeyPrefix: prefix,
        instanceId: 'bench',
        redisProbeIntervalMs: 60_000,
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return {
    repo: moduleRef.get<CallStateRepository>(CallStateRepository),
    close: () => moduleRef.close(),
  };
}

/** Creates CALLS calls of SESSIONS_PER_CALL sessions; returns their ids. */
async function seed(repo: CallStateRepository): Promise<string[]> {
  const ids: string[] = [];
  for (let c = 0; c < CALLS; c++) {
    let callId = '';
    for (let s = 0; s < SESSIONS_PER_CALL; s++) {
      const { call } = await repo.joinCall(
        { channelId: `bench-ch${c}`, ownerId: 'u0' },
        {
          sessionId: `c${c}-s${s}`,
          userId: `u${s}`,
          unmuted: false,
          raisedHand: 0,
          video: false,
          joinAt: Date.now(),
          instanceId: 'bench',
        },
      );
      callId = call.id;
    }
    ids.push(callId);
  }
  return ids;
}

/** A conflict-free mutation: toggles one session's mute on the client's own call. */
const mutate = (repo: CallStateRepository, ids: string[]) => (i: number) =>
  repo.setMuted(ids[i % ids.length], `c${i % ids.length}-s0`, Math.floor(i / ids.length) % 2 === 0);

export async function stateStoreBench(): Promise<void> {
  const rounds = Math.max(1, envNumber('STATE_ROUNDS', 5));
  const server = await TestRedisServer.start();
  const rows: Row[] = [];
  try {
    const raw = new Redis(server.url);
    const { repo, close } = await repository('redis', server.url, 'bench:redis:');
    const ids = await seed(repo);
    const payload = (await raw.get(`bench:redis:state:${ids[0]}`)) ?? '';

    for (const concurrency of [1, 50]) {
      const n = concurrency === 1 ? 5000 : 20000;
      // Warm up both, then measure the baseline and the repository back to back, several rounds:
      // on a shared machine a single pair swings with the neighbours; the median round does not.
      await runLoad(500, concurrency, (i) => raw.set(`bench:raw:${i % CALLS}`, payload));
      await runLoad(500, concurrency, mutate(repo, ids));
      const pairs: { base: Samples; repo: Samples; ratio: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const base = await runLoad(n, concurrency, (i) =>
          raw.set(`bench:raw:${i % CALLS}`, payload),
        );
        const repoRun = await runLoad(n, concurrency, mutate(repo, ids));
        const ratio = percentile(repoRun.latenciesMs, 50) / percentile(base.latenciesMs, 50);
        pairs.push({ base, repo: repoRun, ratio });
      }
      pairs.sort((a, b) => a.ratio - b.ratio);
      const median = pairs[Math.floor(pairs.length / 2)];
      const spread = `${pairs[0].ratio.toFixed(2)}–${pairs[pairs.length - 1].ratio.toFixed(2)}`;
      rows.push(
        summarize(`raw ioredis SET (${payload.length} B), ${concurrency} client(s)`, median.base, {
          'ratio p50': 1,
        }),
      );
      rows.push(
        summarize(`redis repository mutation, ${concurrency} client(s)`, median.repo, {
          'ratio p50': `${median.ratio.toFixed(3)} (rounds ${spread})`,
        }),
      );
    }
    await close();
    raw.disconnect();

    const memory = await repository('memory', server.url, 'unused:');
    const memIds = await seed(memory.repo);
    await runLoad(20000, 1, mutate(memory.repo, memIds));
    rows.push(
      summarize(
        'memory repository mutation, 1 client',
        await runLoad(200000, 1, mutate(memory.repo, memIds)),
        { 'ratio p50': '' },
      ),
    );
    rows.push(
      summarize(
        'memory repository mutation, 50 clients',
        await runLoad(200000, 50, mutate(memory.repo, memIds)),
        { 'ratio p50': '' },
      ),
    );
    await memory.close();

    const auto = await repository('auto', server.url, 'bench:auto:');
    const autoIds = await seed(auto.repo);
    const healthy = await runLoad(5000, 1, mutate(auto.repo, autoIds));
    rows.push(summarize('auto mutation, Redis up', healthy, { 'ratio p50': '' }));
    await server.kill();
    const first = await runLoad(1, 1, mutate(auto.repo, autoIds));
    const during = await runLoad(20000, 1, mutate(auto.repo, autoIds));
    rows.push(summarize('auto: first operation after Redis died', first, { 'ratio p50': '' }));
    rows.push(
      summarize('auto mutation during outage (fallback)', during, {
        'ratio p50': `max ${Math.max(...during.latenciesMs).toFixed(3)} ms`,
      }),
    );
    await auto.close();
  } finally {
    if (server.running) await server.stop();
  }
  printTable(`State store (${CALLS} calls × ${SESSIONS_PER_CALL} sessions)`, rows);
}
