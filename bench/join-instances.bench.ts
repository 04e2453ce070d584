/**
 * Join latency across instances: the join-latency run of `join.bench.ts` with the participants
 * spread round-robin over three host-app processes sharing one Redis (redis state backend, one
 * media worker each; media between instances through mediasoup pipe transports), next to the
 * same N participants on ONE such process in the same run (same Redis, same kind of process),
 * so the ratio shows what spreading costs. Per participant, from sending `join`: the SDP
 * answer, DTLS connected, the first RTP from another participant (the two senders are on
 * different instances, so most participants first hear a speaker through a pipe).
 *
 * Env: JOIN3_SIZES (10,50,200), JOIN_SENDERS (2), JOIN_TIMEOUT_MS (60000).
 */
import { randomBytes } from 'node:crypto';
import { TestRedisServer } from '../libs/calls/src/testing/redis-server';
import { HostProcess } from '../test/support/host-process';
import { envNumber, envNumbers } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { MEDIA_BENCH_ENV } from './lib/media-host';
import { percentile, printTable, type Row } from './lib/measure';
import type { AudioRole, StageTimes } from './lib/bench-participant';

const STAGES: [keyof StageTimes, string][] = [
  ['ack', 'join ack'],
  ['answer', '(a) join → SDP answer'],
  ['connected', '(b) join → DTLS connected'],
  ['firstMedia', '(c) join → first RTP from another'],
];

/** Same secret everywhere: a token from one instance is valid on the others. */
const AUTH_SECRET = `bench-${randomBytes(8).toString('hex')}`;

function hostEnv(redisUrl: string, instance: string): Record<string, string> {
  return {
    RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
    RUSTCHAT_REDIS_URL: redisUrl,
    RUSTCHAT_CALLS_INSTANCE_ID: instance,
    ...MEDIA_BENCH_ENV,
    DEMO_AUTH_SECRET: AUTH_SECRET,
  };
}

/** Signs in participant i on the host it will connect to (10 at a time). */
async function tokensFor(hosts: HostProcess[], n: number, prefix: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, j) =>
        hosts[(i + j) % hosts.length].login(`${prefix}${i + j}`),
      ),
    );
    tokens.push(...batch.map((b) => b.token));
  }
  return tokens;
}

/** One join burst of `n` participants spread over `hosts`; their stage times. */
async function burst(
  load: LoadProcess,
  hosts: HostProcess[],
  n: number,
  senders: number,
  timeoutMs: number,
): Promise<{ times: StageTimes[]; failures: string[] }> {
  const group = `join${hosts.length}-${n}-${randomBytes(3).toString('hex')}`;
  const tokens = await tokensFor(hosts, n, `${group}-`);
  const roles: AudioRole[] = tokens.map((_, i) => (i < senders ? 'speaker' : 'none'));
  const urls = tokens.map((_, i) => hosts[i % hosts.length].url);
  await load.call('weriftAdd', { group, url: urls, tokens, roles });
  try {
    const result = await load.call('weriftJoin', {
      group,
      channel: `bench-${group}`,
      unmuteSpeakers: true,
      timeoutMs,
    });
    return { times: result.times, failures: [...result.failures, ...result.errors] };
  } finally {
    await load.call('weriftClose', { group });
  }
}

export async function joinInstancesBench(): Promise<void> {
  const sizes = envNumbers('JOIN3_SIZES', [10, 50, 200]);
  const timeoutMs = envNumber('JOIN_TIMEOUT_MS', 60_000);
  const redis = await TestRedisServer.start();
  const load = LoadProcess.start();
  const rows: Row[] = [];
  let hosts: HostProcess[] = [];
  try {
    hosts = await Promise.all(
      [1, 2, 3].map((i) => HostProcess.start(`inst-${i}`, hostEnv(redis.url, `inst-${i}`))),
    );
    for (const n of sizes) {
      const senders = Math.min(n, envNumber('JOIN_SENDERS', 2));
      // Warm-up (JIT, routers, pipes) on every instance.
      await burst(load, hosts, 6, 2, timeoutMs);
      const one = await burst(load, hosts.slice(0, 1), n, senders, timeoutMs);
      const three = await burst(load, hosts, n, senders, timeoutMs);
      for (const [name, r] of [
        ['1 instance', one],
        ['3 instances', three],
      ] as const) {
        if (r.failures.length > 0) {
          console.warn(`join ${n} on ${name}: ${r.failures.length} failures: ${r.failures[0]}`);
        }
      }
      for (const [stage, label] of STAGES) {
        const values = (r: { times: StageTimes[] }) =>
          r.times.map((t) => t[stage]).filter((v): v is number => v !== undefined);
        const [a, b] = [values(one), values(three)];
        rows.push({
          participants: `${n} (${senders} send)`,
          stage: label,
          '1 instance p50 ms': percentile(a, 50),
          '1 instance p99 ms': percentile(a, 99),
          '3 instances p50 ms': percentile(b, 50),
          '3 instances p99 ms': percentile(b, 99),
          'ratio p50 (3/1)': percentile(b, 50) / percentile(a, 50),
          reached: `${a.length}/${n} · ${b.length}/${n}`,
        });
      }
    }
  } finally {
    await load.close();
    await Promise.all(hosts.map((h) => h.stop('SIGTERM', 15_000)));
    await redis.stop();
  }
  printTable(
    'Join latency across instances: N werift peers join one call at once, round-robin over 3 host-app processes (redis state, 1 media worker each, loopback) vs all on 1 such process',
    rows,
  );
}
