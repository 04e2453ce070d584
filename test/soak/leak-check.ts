import { Redis } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from '@app/calls/config/redis-key-prefix';
import { isRunning, listProcesses } from './processes';
import type { SoakCluster } from './soak-cluster';

/** What is left once every participant left: one line per leaked thing (empty: no leak). */
export type Leaks = string[];

/** The mediasoup object kinds of `calls_sfu_objects` that must be 0 with nobody in a call. */
const SFU_KINDS = ['routers', 'transports', 'producers', 'consumers', 'pipes'];

/**
 * Leaks after every participant left: per instance, mediasoup objects (`calls_sfu_objects` of
 * `/metrics`: routers, transports, producers, consumers, pipes; exactly one worker) and local
 * sessions; in Redis, call states, channel and active-call entries, and registrations of
 * instances that are not running; processes: mediasoup workers other than each instance's
 * current one (`seenWorkers`: every worker pid seen during the soak) still running.
 */
export async function findLeaks(
  cluster: SoakCluster,
  seenWorkers: ReadonlySet<number>,
): Promise<Leaks> {
  const leaks: Leaks = [];
  const current = new Set<number>();
  for (const inst of cluster.instances) {
    const host = inst.host;
    if (!host?.alive) {
      leaks.push(`${inst.id}: not running`);
      continue;
    }
    const text = await fetch(`${host.url}/metrics`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.text())
      .catch(() => '');
    if (!text) {
      leaks.push(`${inst.id}: /metrics not answered`);
      continue;
    }
    const metric = (name: string): number =>
      Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    for (const kind of SFU_KINDS) {
      const n = metric(`calls_sfu_objects\\{kind="${kind}"\\}`);
      if (n !== 0) leaks.push(`${inst.id}: ${kind}=${n}`);
    }
    const workers = metric('calls_sfu_objects\\{kind="workers"\\}');
    if (workers !== 1) leaks.push(`${inst.id}: workers=${workers} (1 configured)`);
    const local = metric('calls_local_sessions');
    if (local !== 0) leaks.push(`${inst.id}: local sessions=${local}`);
    const children = cluster.workerPids(inst);
    if (children.length !== 1) leaks.push(`${inst.id}: ${children.length} worker processes`);
    children.forEach((pid) => current.add(pid));
  }
  for (const pid of seenWorkers) {
    if (!current.has(pid) && isRunning(pid)) leaks.push(`worker process ${pid} still running`);
  }
  leaks.push(...(await redisLeaks(cluster)));
  return leaks;
}

/**
 * Processes this process started that still run (after everything was stopped), and workers seen
 * during the soak that still run.
 */
export function leftoverProcesses(seenWorkers: ReadonlySet<number>): Leaks {
  const children = listProcesses().filter((p) => p.ppid === process.pid);
  return [
    ...children.map((p) => `process ${p.pid} (${p.name}) still running`),
    ...[...seenWorkers].filter(isRunning).map((pid) => `worker process ${pid} still running`),
  ];
}

async function redisLeaks(cluster: SoakCluster): Promise<Leaks> {
  const redis = new Redis({
    sentinels: cluster.redis.sentinelAddresses.map((a) => ({
      host: '127.0.0.1',
      port: Number(a.split(':')[1]),
    })),
    name: cluster.redis.name,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const p = DEFAULT_KEY_PREFIX;
    const leaks: Leaks = [];
    for (const pattern of ['state:*', 'channel:*']) {
      for (const key of await redis.keys(`${p}${pattern}`)) leaks.push(`redis: ${key}`);
    }
    for (const id of await redis.smembers(`${p}active`)) leaks.push(`redis: active call ${id}`);
    const running = new Set(cluster.instances.filter((i) => i.host?.alive).map((i) => i.id));
    for (const id of await redis.smembers(`${p}instances`)) {
      if (!running.has(id)) leaks.push(`redis: instance ${id} registered, not running`);
    }
    return leaks;
  } catch (err) {
    return [`redis: not readable (${(err as Error).message})`];
  } finally {
    redis.disconnect();
  }
}
