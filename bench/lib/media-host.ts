import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { TestHostApp } from '../../test/support/host-app';

/**
 * The host app as the media benchmarks run it: memory state, one media worker (so "per worker
 * core" is one process), UDP on loopback only, rate limits out of the way of a load test;
 * `env` overrides (e.g. more workers).
 */
export function startMediaHost(extraEnv: Record<string, string> = {}): Promise<TestHostApp> {
  return TestHostApp.start({
    RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
    ...MEDIA_BENCH_ENV,
    ...extraEnv,
  });
}

/** One media worker, UDP on loopback, no participant cap, rate limits out of a load test's way. */
export const MEDIA_BENCH_ENV: Readonly<Record<string, string>> = {
  RUSTCHAT_CALLS_WORKERS: '1',
  RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
  RUSTCHAT_CALLS_ENABLE_TCP: 'false',
  RUSTCHAT_CALLS_MAX_PARTICIPANTS: '0',
  RUSTCHAT_CALLS_WS_RATE: '100000',
  RUSTCHAT_CALLS_WS_BURST: '100000',
  RUSTCHAT_CALLS_HTTP_RATE: '100000',
  RUSTCHAT_CALLS_HTTP_BURST: '100000',
};

/** Signs in `count` demo users (10 at a time); returns their tokens and user ids. */
export async function loginUsers(host: TestHostApp, count: number, prefix: string) {
  const users: { token: string; userId: string }[] = [];
  for (let i = 0; i < count; i += 10) {
    users.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(10, count - i) }, (_, j) => host.login(`${prefix}${i + j}`)),
      )),
    );
  }
  return users;
}

/** Signs in `count` demo users (10 at a time); returns their tokens. */
export async function loginMany(host: TestHostApp, count: number, prefix: string) {
  return (await loginUsers(host, count, prefix)).map((u) => u.token);
}

/** A bare mediasoup worker like the module's (same binary, log level). */
export function rawWorker(): Promise<ms.Worker> {
  return mediasoup.createWorker({ logLevel: 'warn' });
}

/** CPU seconds (user + system) a worker has used so far. */
export async function workerCpuSeconds(worker: ms.Worker): Promise<number> {
  const u = await worker.getResourceUsage();
  return (u.ru_utime + u.ru_stime) / 1000;
}
