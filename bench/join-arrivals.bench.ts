/**
 * Realistic arrivals: N werift peers (a separate load process) join one call at the times of a
 * Poisson process (N over `ARRIVALS_SECONDS`, seeded: every run and every server gets the same
 * arrivals), the first two to arrive are speakers (they unmute after their offer and send Opus).
 * Per participant, from its `join`: the SDP answer and the first audio from another participant,
 * measured by the client; and from the server's own timestamps (the join taken up → answer sent,
 * → DTLS connected), which do not include the load generator's delays. The module (memory state,
 * or Redis state and adapter with ARRIVALS_STATE=redis) and the bare baseline
 * ({@link BareSfuServer}) run alternately, `ARRIVALS_ROUNDS` times each. The load generator's CPU
 * is reported over the run and for its busiest second: near 100 % it, not the server, sets the
 * client-side times. The peers count what they receive from its clear RTP headers without
 * decrypting it (bench/lib/clear-rtp.ts: ICE, DTLS, SRTCP and the server's SRTP encryption as
 * with a browser, none of the load generator's per-packet decryption); `ARRIVALS_DECRYPT=1`
 * makes them decrypt.
 *
 * Env: ARRIVALS_N (200), ARRIVALS_SECONDS (10), ARRIVALS_SEED (17), ARRIVALS_ROUNDS (1),
 * ARRIVALS_STATE (memory | redis), ARRIVALS_DECRYPT (0), JOIN_TIMEOUT_MS (60000),
 * ARRIVALS_CPU_PROFILE (a directory: CPU profiles of the server process and of the load generator
 * over each run's arrivals, written there and summarised), ARRIVALS_PIN (0; 1: the load generator
 * on the last CPU, the server, its media workers and Redis on the others: see {@link pinApart}).
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TestRedisServer } from '@app/calls/testing';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import { TestHostApp } from '../test/support/host-app';
import { printProfile } from './join.bench';
import { BareSfuServer } from './lib/bare-sfu-server';
import { CpuProfiler } from './lib/cpu-profile';
import { pinApart } from './lib/cpu-pinning';
import { envNumber } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { loginMany, MEDIA_BENCH_ENV } from './lib/media-host';
import { percentile, printTable, type Row } from './lib/measure';
import { writeSyscalls } from './lib/proc-status';
import { sampleRunQueue } from './lib/run-queue';
import { probeModule, type ServerTimeline } from './lib/server-probe';
import type { AudioRole } from './lib/bench-participant';

const TARGETS = { answerP99: 100, firstAudioP99: 500 };

/** Mulberry32: a small seeded generator, so that every run sees the same arrivals. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arrival times (ms) of a Poisson process of rate n / seconds: exponential gaps. */
export function poissonArrivals(n: number, seconds: number, seed: number): number[] {
  const random = seeded(seed);
  const meanGapMs = (seconds * 1000) / n;
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += -Math.log(1 - random()) * meanGapMs;
    times.push(t);
  }
  return times;
}

interface Server {
  readonly url: string;
  readonly timeline: ServerTimeline;
  tokens(n: number): Promise<string[]>;
  workerCpuSeconds(): Promise<number>;
  close(): Promise<void>;
}

async function startServer(kind: 'module' | 'bare', redisUrl: string): Promise<Server> {
  if (kind === 'bare') {
    const bare = await BareSfuServer.start(redisUrl);
    return {
      url: bare.url,
      timeline: bare.timeline,
      tokens: (n) => Promise.resolve(Array.from({ length: n }, () => 'bare')),
      workerCpuSeconds: () => bare.workerCpuSeconds(),
      close: () => bare.close(),
    };
  }
  const redis = process.env.ARRIVALS_STATE === 'redis';
  const host = await TestHostApp.start({
    ...MEDIA_BENCH_ENV,
    ...(redis
      ? { RUSTCHAT_CALLS_STATE_BACKEND: 'redis', RUSTCHAT_REDIS_URL: redisUrl }
      : { RUSTCHAT_CALLS_STATE_BACKEND: 'memory' }),
  });
  const sfu = host.app.get(SfuService);
  return {
    url: host.url,
    timeline: probeModule(host),
    tokens: (n) => loginMany(host, n, `arrival-${randomBytes(3).toString('hex')}-`),
    workerCpuSeconds: async () =>
      (await sfu.workerUsage()).reduce((sum, w) => sum + w.cpuSeconds, 0),
    close: () => host.close(),
  };
}

/** One run: the rows of its table. */
async function run(
  load: LoadProcess,
  kind: 'module' | 'bare',
  redisUrl: string,
  arrivals: number[],
  timeoutMs: number,
): Promise<Row> {
  const n = arrivals.length;
  const server = await startServer(kind, redisUrl);
  const pinning = envNumber('ARRIVALS_PIN', 0) > 0 ? pinApart(load.pid!) : null;
  const group = `arrivals-${kind}`;
  try {
    const warm = `${group}-warm`;
    await load.call('weriftAdd', {
      group: warm,
      url: server.url,
      tokens: await server.tokens(2),
      roles: ['speaker', 'speaker'],
    });
    await load.call('weriftJoin', {
      group: warm,
      channel: `warm-${randomBytes(4).toString('hex')}`,
      unmuteSpeakers: true,
      timeoutMs,
    });
    await load.call('weriftClose', { group: warm });

    const roles: AudioRole[] = arrivals.map((_, i) => (i < 2 ? 'speaker' : 'none'));
    await load.call('weriftAdd', {
      group,
      url: server.url,
      tokens: await server.tokens(n),
      roles,
      decrypt: envNumber('ARRIVALS_DECRYPT', 0) > 0,
    });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const worker0 = await server.workerCpuSeconds();
    const [cpu0, writes0, t0] = [process.cpuUsage(), writeSyscalls(), Date.now()];
    lag.enable();
    const profileDir = process.env.ARRIVALS_CPU_PROFILE;
    const profiler = profileDir ? new CpuProfiler() : null;
    await profiler?.start();
    if (profileDir) await load.call('profileStart', undefined);
    const runQueue = sampleRunQueue();
    const result = await load.call('weriftArrive', {
      group,
      channel: `arrivals-${randomBytes(4).toString('hex')}`,
      offsetsMs: arrivals,
      unmuteSpeakers: true,
      timeoutMs,
    });
    lag.disable();
    const queue = runQueue();
    const cpu = process.cpuUsage(cpu0);
    const writes = writeSyscalls() - writes0;
    const wallS = (Date.now() - t0) / 1000;
    if (profiler) {
      printProfile(`${group} server`, await profiler.stop(profileDir!, `${group}-server`));
      const name = `${group}-load`;
      printProfile(
        `${group} load generator`,
        await load.call('profileStop', { dir: profileDir!, name }),
      );
    }
    const workerMs = ((await server.workerCpuSeconds()) - worker0) * 1000;
    await load.call('weriftClose', { group });

    const client = (pick: (t: (typeof result.times)[number]) => number | undefined) =>
      result.times.flatMap((t) => (pick(t) === undefined ? [] : [pick(t)!]));
    const answer = client((t) => t.answer);
    const firstAudio = client((t) => t.firstMedia);
    const serverStage = (stage: 'answerOut' | 'dtlsConnected') =>
      result.sessionIds.flatMap((id) => {
        const t = server.timeline.of(id);
        return t.joinIn !== undefined && t[stage] !== undefined ? [t[stage] - t.joinIn] : [];
      });
    // The server's own part of the answer: its join up to the acknowledgement (media opened), and
    // the client's offer to the answer; not the time the client took to send its offer.
    const serverOwn = result.sessionIds.flatMap((id) => {
      const { joinIn, openEnd, offerIn, answerOut } = server.timeline.of(id);
      if ([joinIn, openEnd, offerIn, answerOut].some((t) => t === undefined)) return [];
      return [openEnd! - joinIn! + answerOut! - Math.max(offerIn!, openEnd!)];
    });
    const pair = (values: number[]) =>
      `${percentile(values, 50).toFixed(0)} / ${percentile(values, 99).toFixed(0)}`;
    const serverMs = (cpu.user + cpu.system) / 1000;
    return {
      server: kind === 'module' ? `module (${process.env.ARRIVALS_STATE ?? 'memory'})` : 'bare',
      'CPUs: server / load': pinning ? `${pinning.server} / ${pinning.load}` : 'shared',
      'answer p50 / p99 ms': pair(answer),
      'first audio p50 / p99 ms': pair(firstAudio),
      'server: join in → answer out p50 / p99': pair(serverStage('answerOut')),
      'server: own time to answer (join → ack, offer → answer) p50 / p99': pair(serverOwn),
      'server: join in → DTLS connected p50 / p99': pair(serverStage('dtlsConnected')),
      'reached audio': `${firstAudio.length}/${n}`,
      'server CPU % / ms per join': `${((serverMs / 1000 / wallS) * 100).toFixed(0)} / ${(serverMs / n).toFixed(1)}`,
      'worker CPU % / ms per join': `${((workerMs / 1000 / wallS) * 100).toFixed(0)} / ${(workerMs / n).toFixed(1)}`,
      'server write syscalls/join': (writes / n).toFixed(0),
      'server event-loop delay p99 ms': (lag.percentile(99) / 1e6).toFixed(0),
      'load gen CPU % (run / busiest s)': `${(result.generatorCpu * 100).toFixed(0)} / ${(result.generatorBusiestSecond * 100).toFixed(0)}`,
      'machine: runnable threads p50 / max (2 cores)': `${queue.p50} / ${queue.max}`,
      failures: result.failures.length,
    };
  } finally {
    await server.close();
  }
}

export async function joinArrivalsBench(): Promise<void> {
  const n = envNumber('ARRIVALS_N', 200);
  const seconds = envNumber('ARRIVALS_SECONDS', 10);
  const seed = envNumber('ARRIVALS_SEED', 17);
  const rounds = Math.max(1, envNumber('ARRIVALS_ROUNDS', 1));
  const timeoutMs = envNumber('JOIN_TIMEOUT_MS', 60_000);
  const arrivals = poissonArrivals(n, seconds, seed);
  const redis = await TestRedisServer.start();
  const load = LoadProcess.start();
  const rows: Row[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const kind of ['bare', 'module'] as const) {
        rows.push({ round: round + 1, ...(await run(load, kind, redis.url, arrivals, timeoutMs)) });
      }
    }
  } finally {
    await load.close();
    await redis.stop();
  }
  const gaps = arrivals.map((t, i) => t - (arrivals[i - 1] ?? 0));
  printTable(
    `Poisson arrivals: ${n} joins over ${(arrivals[n - 1] / 1000).toFixed(1)} s (seed ${seed}; gaps p50 ${percentile(gaps, 50).toFixed(0)} ms, min ${Math.min(...gaps).toFixed(1)} ms), first 2 arrivals speak; targets answer p99 ≤ ${TARGETS.answerP99} ms, first audio p99 ≤ ${TARGETS.firstAudioP99} ms`,
    rows,
  );
}
