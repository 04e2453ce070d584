/**
 * CPU per join, the module against a bare baseline in the same run: N werift peers (a separate
 * load process) join one call at once, 2 of them speakers, against
 * - `bare`: {@link BareSfuServer}, the same socket.io messages and mediasoup objects driven
 *   directly, plus one Redis SET per join;
 * - `module`: the host app with memory state (one instance, as the join bench runs it);
 * - `module-redis`: the host app with Redis state and the socket.io Redis adapter (a deployment
 *   of several instances; here one).
 * For each: the server's CPU (this process, where the server runs: its own accounting, from the
 * first `join` sent until every peer is connected and hears a speaker), its media worker's, the
 * Redis server's, per participant; the load generator's; the answer and first-audio latency.
 * Modes run alternately per size, `JOINCOST_ROUNDS` times; the table shows medians over rounds.
 * A size smaller than `JOINCOST_JOINS` is measured over as many calls of that size, one after
 * the other (each call's peers leave before the next call's join starts), so that every size
 * counts the same number of joins: the CPU of 10 joins alone is a few tens of milliseconds,
 * where one collection or timer moves the figure by half.
 *
 * Env: JOINCOST_SIZES (10,50,200), JOINCOST_MODES (bare,module,module-redis), JOINCOST_ROUNDS (1),
 * JOINCOST_JOINS (200: joins counted per size and round),
 * JOIN_TIMEOUT_MS (60000), JOIN_CPU_PROFILE (a directory: the server process is profiled over each
 * measured join, `<mode>-<n>.cpuprofile`, and its top frames printed).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { TestRedisServer } from '@app/calls/testing';
import { SocketIoDelivery } from '../libs/calls/src/gateway/socket-io.delivery';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import { TestHostApp } from '../test/support/host-app';
import { printProfile } from './join.bench';
import { BareSfuServer } from './lib/bare-sfu-server';
import { CpuProfiler } from './lib/cpu-profile';
import { envNumber, envNumbers } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { loginMany, MEDIA_BENCH_ENV } from './lib/media-host';
import { percentile, printTable, type Row } from './lib/measure';
import { writeSyscalls } from './lib/proc-status';
import { sampleRunQueue } from './lib/run-queue';
import type { AudioRole } from './lib/bench-participant';

type Mode = 'bare' | 'module' | 'module-redis';
const MODES: readonly Mode[] = ['bare', 'module', 'module-redis'];
const SPEAKERS = 2;

/** A server under test: its URL, tokens for N users, its worker's CPU so far, and its end. */
interface Target {
  readonly url: string;
  /** Join/leave announcement batches the module handed to socket.io so far: count and events. */
  readonly batches: { count: number; events: number };
  tokens(n: number, prefix: string): Promise<string[]>;
  workerCpuSeconds(): Promise<number>;
  close(): Promise<void>;
}

/** The joins measured for one size: one call of N, or several calls of N one after the other. */
interface Sample {
  /** Joins counted (N × calls). */
  joins: number;
  serverMs: number;
  /** Write system calls of the server process (`/proc/self/io` syscw): socket and pipe writes. */
  writes: number;
  /** Announcement batches (module) and the events in them, over the join. */
  batches: number;
  batchedEvents: number;
  workerMs: number;
  redisMs: number;
  /** Runnable threads on the machine during the join (median). */
  runQueue: number;
  generatorCpu: number;
  answer: number[];
  firstAudio: number[];
  reached: number;
  failures: number;
}

async function startTarget(mode: Mode, redisUrl: string): Promise<Target> {
  if (mode === 'bare') {
    const bare = await BareSfuServer.start(redisUrl);
    return {
      url: bare.url,
      batches: { count: NaN, events: NaN },
      tokens: (n) => Promise.resolve(Array.from({ length: n }, () => 'bare')),
      workerCpuSeconds: () => bare.workerCpuSeconds(),
      close: () => bare.close(),
    };
  }
  const host = await TestHostApp.start({
    ...MEDIA_BENCH_ENV,
    ...(mode === 'module'
      ? { RUSTCHAT_CALLS_STATE_BACKEND: 'memory' }
      : { RUSTCHAT_CALLS_STATE_BACKEND: 'redis', RUSTCHAT_REDIS_URL: redisUrl }),
  });
  const sfu = host.app.get(SfuService);
  const batches = { count: 0, events: 0 };
  const socketIo = host.app.get(SocketIoDelivery);
  const toChannelBatch = socketIo.toChannelBatch.bind(socketIo);
  socketIo.toChannelBatch = (channelId, events) => {
    batches.count++;
    batches.events += events.length;
    toChannelBatch(channelId, events);
  };
  return {
    url: host.url,
    batches,
    tokens: (n, prefix) => loginMany(host, n, prefix),
    workerCpuSeconds: async () =>
      (await sfu.workerUsage()).reduce((sum, w) => sum + w.cpuSeconds, 0),
    close: () => host.close(),
  };
}

/** CPU seconds a process used so far (Linux `/proc/<pid>/stat`: utime + stime). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function redisPid(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    const info = await client.info('server');
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  } finally {
    client.disconnect();
  }
}

const median = (values: number[]) => percentile(values, 50);

async function measure(
  load: LoadProcess,
  mode: Mode,
  n: number,
  redis: { url: string; pid: number },
  timeoutMs: number,
): Promise<Sample> {
  const target = await startTarget(mode, redis.url);
  const group = `${mode}-${n}`;
  try {
    // Warm-up: two speakers join and leave another call.
    await load.call('weriftAdd', {
      group: `${group}-warm`,
      url: target.url,
      tokens: await target.tokens(2, `warm-${group}-`),
      roles: ['speaker', 'speaker'],
    });
    await load.call('weriftJoin', {
      group: `${group}-warm`,
      channel: `warm-${randomBytes(4).toString('hex')}`,
      unmuteSpeakers: true,
      timeoutMs,
    });
    await load.call('weriftClose', { group: `${group}-warm` });

    const calls = Math.max(1, Math.ceil(envNumber('JOINCOST_JOINS', 200) / n));
    const samples: Sample[] = [];
    for (let c = 0; c < calls; c++) {
      samples.push(await measureCall(load, target, `${group}-${c}`, n, redis, timeoutMs));
    }
    const sum = (pick: (s: Sample) => number) => samples.reduce((t, s) => t + pick(s), 0);
    return {
      joins: sum((s) => s.joins),
      serverMs: sum((s) => s.serverMs),
      writes: sum((s) => s.writes),
      batches: sum((s) => s.batches),
      batchedEvents: sum((s) => s.batchedEvents),
      workerMs: sum((s) => s.workerMs),
      redisMs: sum((s) => s.redisMs),
      runQueue: median(samples.map((s) => s.runQueue)),
      generatorCpu: median(samples.map((s) => s.generatorCpu)),
      answer: samples.flatMap((s) => s.answer),
      firstAudio: samples.flatMap((s) => s.firstAudio),
      reached: sum((s) => s.reached),
      failures: sum((s) => s.failures),
    };
  } finally {
    await target.close();
  }
}

/** One call of N joining at once, measured from the first `join` until every peer hears a speaker. */
async function measureCall(
  load: LoadProcess,
  target: Target,
  group: string,
  n: number,
  redis: { url: string; pid: number },
  timeoutMs: number,
): Promise<Sample> {
  const tokens = await target.tokens(n, `joiner-${group}-`);
  const roles: AudioRole[] = tokens.map((_, i) => (i < SPEAKERS ? 'speaker' : 'none'));
  await load.call('weriftAdd', { group, url: target.url, tokens, roles });
  const batches0 = { ...target.batches };
  const [worker0, redis0, writes0, cpu0] = [
    await target.workerCpuSeconds(),
    processCpuSeconds(redis.pid),
    writeSyscalls(),
    process.cpuUsage(),
  ];
  const profileDir = process.env.JOIN_CPU_PROFILE;
  const profiler = profileDir ? new CpuProfiler() : null;
  await profiler?.start();
  const runQueue = sampleRunQueue();
  const result = await load.call('weriftJoin', {
    group,
    channel: `cost-${randomBytes(4).toString('hex')}`,
    unmuteSpeakers: true,
    timeoutMs,
  });
  const cpu = process.cpuUsage(cpu0);
  const queue = runQueue();
  const writes = writeSyscalls() - writes0;
  if (profiler) printProfile(group, await profiler.stop(profileDir!, group));
  const sample: Sample = {
    joins: n,
    serverMs: (cpu.user + cpu.system) / 1e3,
    writes,
    batches: target.batches.count - batches0.count,
    batchedEvents: target.batches.events - batches0.events,
    workerMs: ((await target.workerCpuSeconds()) - worker0) * 1e3,
    redisMs: (processCpuSeconds(redis.pid) - redis0) * 1e3,
    runQueue: queue.p50,
    generatorCpu: result.generatorCpu,
    answer: result.times.flatMap((t) => (t.answer === undefined ? [] : [t.answer])),
    firstAudio: result.times.flatMap((t) => (t.firstMedia === undefined ? [] : [t.firstMedia])),
    reached: result.times.filter((t) => t.firstMedia !== undefined).length,
    failures: result.failures.length,
  };
  if (sample.reached < n || result.errors.length > 0) {
    console.warn(
      `${group}: ${sample.reached}/${n} heard a speaker; ${result.failures.length} failed joins; first errors: ${[...result.failures, ...result.errors].slice(0, 3).join(' | ')}`,
    );
  }
  await load.call('weriftClose', { group });
  // Let the server finish with the leaves before anything else is measured.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return sample;
}

export async function joinCostBench(): Promise<void> {
  const sizes = envNumbers('JOINCOST_SIZES', [10, 50, 200]);
  const modes = (process.env.JOINCOST_MODES ?? MODES.join(','))
    .split(',')
    .map((m) => m.trim() as Mode);
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`JOINCOST_MODES: unknown ${m}`);
  const rounds = Math.max(1, envNumber('JOINCOST_ROUNDS', 1));
  const timeoutMs = envNumber('JOIN_TIMEOUT_MS', 60_000);
  const redisServer = await TestRedisServer.start();
  const redis = { url: redisServer.url, pid: await redisPid(redisServer.url) };
  const load = LoadProcess.start();
  const samples = new Map<string, Sample[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const n of sizes) {
        for (const mode of modes) {
          const sample = await measure(load, mode, n, redis, timeoutMs);
          samples.set(`${mode}:${n}`, [...(samples.get(`${mode}:${n}`) ?? []), sample]);
          console.log(
            `round ${round + 1} ${mode} ${n}: server ${(sample.serverMs / sample.joins).toFixed(2)} + worker ${(sample.workerMs / sample.joins).toFixed(2)} ms per join, reached ${sample.reached}/${sample.joins}`,
          );
        }
      }
    }
  } finally {
    await load.close();
    await redisServer.stop();
  }

  const rows: Row[] = [];
  for (const n of sizes) {
    const perJoin = (mode: Mode, pick: (s: Sample) => number) =>
      median((samples.get(`${mode}:${n}`) ?? []).map((s) => pick(s) / s.joins));
    const bare = samples.get(`bare:${n}`) ?? [];
    for (const mode of modes) {
      const list = samples.get(`${mode}:${n}`) ?? [];
      const server = perJoin(mode, (s) => s.serverMs);
      const total = perJoin(mode, (s) => s.serverMs + s.workerMs);
      const p = (pick: (s: Sample) => number[], q: number) =>
        median(list.map((s) => percentile(pick(s), q))).toFixed(0);
      // Each round's ratio against the bare run of the same round (neighbours' load moves both).
      const ratios = list.map((s, i) => {
        const b = bare[i];
        return b ? (s.serverMs + s.workerMs) / (b.serverMs + b.workerMs) : NaN;
      });
      const sorted = [...ratios].sort((a, b) => a - b);
      rows.push({
        participants: n,
        server: mode,
        'CPU ms/join: server process': server,
        'media worker': perJoin(mode, (s) => s.workerMs),
        'server + worker': total,
        'ratio to bare (server + worker), per round: median (min–max)':
          mode === 'bare'
            ? '1'
            : `${median(ratios).toFixed(2)} (${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)})`,
        'Redis CPU ms/join': perJoin(mode, (s) => s.redisMs),
        'write syscalls/join': Math.round(perJoin(mode, (s) => s.writes)),
        'announcement batches per call (events/batch)':
          mode === 'bare'
            ? ''
            : `${median(list.map((s) => (s.batches * n) / s.joins)).toFixed(1)} (${median(list.map((s) => s.batchedEvents / s.batches)).toFixed(1)})`,
        'answer p50 / p99 ms': `${p((s) => s.answer, 50)} / ${p((s) => s.answer, 99)}`,
        'first audio p50 / p99 ms': `${p((s) => s.firstAudio, 50)} / ${p((s) => s.firstAudio, 99)}`,
        'reached audio': list.map((s) => `${s.reached}/${s.joins}`).join(' '),
        'load gen CPU %': median(list.map((s) => s.generatorCpu * 100)).toFixed(0),
        'runnable threads (p50 per round)': list.map((s) => s.runQueue).join(' '),
      });
    }
  }
  printTable(
    `CPU per join: module vs bare baseline (${SPEAKERS} speakers, werift peers in a separate process, ${rounds} round(s), medians; announce window ${process.env.RUSTCHAT_CALLS_ANNOUNCE_WINDOW_MS ?? 'default'})`,
    rows,
  );
}
