/**
 * State store benchmark: the Redis-backed repository next to a raw ioredis round trip of the same
 * payload size, in the same run, against a throwaway redis-server; the memory backend; and what a
 * fallback costs in `auto` mode while Redis is down. The Redis runs (raw SET, the CAS script alone,
 * the repository) go interleaved in chunks, STATE_ROUNDS times (7, at least 5); the table shows the median
 * round, the ratio's distribution over the rounds, this process's CPU per operation, and Redis's
 * own time and commands per operation (INFO commandstats).
 */
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { CallsModule, CallStateRepository, type StateBackendMode } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import {
  COMPARE_AND_SET_SCRIPT,
  versionHead,
} from '../libs/calls/src/state/redis-call-state.scripts';
import { envNumber } from './lib/env';
import { percentile, printTable, type Row, runLoad, type Samples, summarize } from './lib/measure';

const CALLS = 50;
const RATIO = 'ratio of p50s over rounds: min / p25 / median / p75 / max';
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

/**
 * A conflict-free mutation: client `c` toggles one session's mute on its own call (call `c`, each
 * op changing it, so each is a write), as a client of its own call does.
 */
function mutate(repo: CallStateRepository, ids: string[]) {
  const toggles: boolean[] = [];
  return (_i: number, client: number) => {
    const c = client % ids.length;
    toggles[c] = !toggles[c];
    return repo.setMuted(ids[c], `c${c}-s0`, toggles[c]);
  };
}

/** Redis's own accounting per command (INFO commandstats): calls and microseconds. */
async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)) {
    stats.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/**
 * One measured run of one kind of operation: latencies, this process's CPU per op, Redis's time
 * per op and commands per op (the repository sends the writes of several calls in one script run).
 */
interface Measured extends Samples {
  readonly nodeUsPerOp: number;
  readonly redisUsPerOp: number;
  readonly commandsPerOp: number;
}

/** An operation to measure and the Redis command it costs (for Redis's own accounting). */
interface Kind {
  readonly command: string;
  readonly op: (i: number, client: number) => Promise<unknown>;
}

/**
 * Runs `total` operations of each kind, interleaved in chunks (a chunk of the first kind, one of
 * the second, …, again): on a shared or throttled VM the machine's speed drifts within seconds,
 * and kinds measured one after the other would each see another machine. Interleaved, the ratio
 * of two kinds compares them under the same conditions.
 */
async function interleaved(
  admin: Redis,
  kinds: readonly Kind[],
  total: number,
  concurrency: number,
  chunk: number,
): Promise<Measured[]> {
  const acc = kinds.map(() => ({
    latenciesMs: [] as number[],
    wallMs: 0,
    cpu: 0,
    usec: 0,
    calls: 0,
  }));
  for (let done = 0; done < total; done += chunk) {
    for (let k = 0; k < kinds.length; k++) {
      const { command, op } = kinds[k];
      const before = await commandStats(admin);
      const cpu0 = process.cpuUsage();
      const samples = await runLoad(Math.min(chunk, total - done), concurrency, op);
      const cpu = process.cpuUsage(cpu0);
      const after = await commandStats(admin);
      const a = acc[k];
      for (const l of samples.latenciesMs) a.latenciesMs.push(l);
      a.wallMs += samples.wallMs;
      a.cpu += cpu.user + cpu.system;
      a.usec += (after.get(command)?.usec ?? 0) - (before.get(command)?.usec ?? 0);
      a.calls += (after.get(command)?.calls ?? 0) - (before.get(command)?.calls ?? 0);
    }
  }
  return acc.map((a) => ({
    latenciesMs: a.latenciesMs,
    wallMs: a.wallMs,
    nodeUsPerOp: a.cpu / total,
    redisUsPerOp: a.usec / total,
    commandsPerOp: a.calls / total,
  }));
}

/** The ratio's distribution over rounds: min / p25 / median / p75 / max. */
function distribution(ratios: number[]): string {
  return [0, 25, 50, 75, 100].map((p) => percentile(ratios, Math.max(p, 1)).toFixed(2)).join(' / ');
}

export async function stateStoreBench(): Promise<void> {
  const rounds = Math.max(5, envNumber('STATE_ROUNDS', 7));
  const server = await TestRedisServer.start();
  const rows: Row[] = [];
  try {
    const raw = new Redis(server.url);
    const admin = new Redis(server.url);
    const { repo, close } = await repository('redis', server.url, 'bench:redis:');
    const ids = await seed(repo);
    const payload = (await raw.get(`bench:redis:state:${ids[0]}`)) ?? '';
    // The repository's compare-and-swap script alone (same payload, a version per key, one key
    // per run), run by the raw client: what Redis and ioredis cost for the script, without the
    // repository (which sends the writes of several calls in one run when they come together).
    // Sent as the store sends it: a plain EVALSHA.
    const sha = String(await raw.script('LOAD', COMPARE_AND_SET_SCRIPT));
    const body = payload.slice(payload.indexOf(','));
    const versions = Array.from({ length: CALLS }, () => 1);
    for (let c = 0; c < CALLS; c++) await raw.set(`bench:cas:${c}`, `{"version":1${body}`);
    const cas = (_i: number, client: number) => {
      const c = client % CALLS;
      const v = versions[c]++;
      return raw.evalsha(sha, 1, `bench:cas:${c}`, versionHead(v), `{"version":${v + 1}${body}`);
    };
    const set = (_i: number, client: number) => raw.set(`bench:raw:${client % CALLS}`, payload);

    for (const concurrency of [1, 50]) {
      const n = concurrency === 1 ? 5000 : 20000;
      // Warm up all three, then measure them interleaved, several rounds: on a shared machine
      // a single round swings with the neighbours; the distribution over rounds does not.
      await runLoad(500, concurrency, set);
      await runLoad(500, concurrency, cas);
      await runLoad(500, concurrency, mutate(repo, ids));
      const runs: { base: Measured; cas: Measured; repo: Measured; ratio: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const [base, script, repoRun] = await interleaved(
          admin,
          [
            { command: 'set', op: set },
            { command: 'evalsha', op: cas },
            { command: 'evalsha', op: mutate(repo, ids) },
          ],
          n,
          concurrency,
          concurrency === 1 ? 500 : 2000,
        );
        const ratio = percentile(repoRun.latenciesMs, 50) / percentile(base.latenciesMs, 50);
        runs.push({ base, cas: script, repo: repoRun, ratio });
      }
      const ratios = runs.map((r) => r.ratio);
      const median = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor(runs.length / 2)];
      const costs = (m: Measured) => ({
        'Node CPU µs/op': m.nodeUsPerOp.toFixed(1),
        'Redis µs/op': m.redisUsPerOp.toFixed(1),
        'Redis commands/op': m.commandsPerOp.toFixed(2),
      });
      const ratioOf = (pick: (r: (typeof runs)[number]) => Measured) =>
        distribution(
          runs.map((r) => percentile(pick(r).latenciesMs, 50) / percentile(r.base.latenciesMs, 50)),
        );
      rows.push(
        summarize(`raw ioredis SET (${payload.length} B), ${concurrency} client(s)`, median.base, {
          ...costs(median.base),
          [RATIO]: '1',
        }),
        summarize(`raw EVALSHA of the CAS script, ${concurrency} client(s)`, median.cas, {
          ...costs(median.cas),
          [RATIO]: ratioOf((r) => r.cas),
        }),
        summarize(`redis repository mutation, ${concurrency} client(s)`, median.repo, {
          ...costs(median.repo),
          [RATIO]: distribution(ratios),
        }),
      );
    }
    await close();
    raw.disconnect();
    admin.disconnect();

    const memory = await repository('memory', server.url, 'unused:');
    const memIds = await seed(memory.repo);
    await runLoad(20000, 1, mutate(memory.repo, memIds));
    rows.push(
      summarize(
        'memory repository mutation, 1 client',
        await runLoad(200000, 1, mutate(memory.repo, memIds)),
        { [RATIO]: '' },
      ),
    );
    rows.push(
      summarize(
        'memory repository mutation, 50 clients',
        await runLoad(200000, 50, mutate(memory.repo, memIds)),
        { [RATIO]: '' },
      ),
    );
    await memory.close();

    const auto = await repository('auto', server.url, 'bench:auto:');
    const autoIds = await seed(auto.repo);
    const healthy = await runLoad(5000, 1, mutate(auto.repo, autoIds));
    rows.push(summarize('auto mutation, Redis up', healthy, { [RATIO]: '' }));
    await server.kill();
    const first = await runLoad(1, 1, mutate(auto.repo, autoIds));
    const during = await runLoad(20000, 1, mutate(auto.repo, autoIds));
    rows.push(summarize('auto: first operation after Redis died', first, { [RATIO]: '' }));
    rows.push(
      summarize('auto mutation during outage (fallback)', during, {
        [RATIO]: `max ${Math.max(...during.latenciesMs).toFixed(3)} ms`,
      }),
    );
    await auto.close();
  } finally {
    if (server.running) await server.stop();
  }
  printTable(`State store (${CALLS} calls × ${SESSIONS_PER_CALL} sessions)`, rows);
}
