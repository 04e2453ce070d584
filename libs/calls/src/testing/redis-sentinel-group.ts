import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer } from './redis-server';

/** Options of {@link TestSentinelGroup.start}. */
export interface TestSentinelGroupOptions {
  /** Master group name. @default 'mymaster' */
  readonly name?: string;
  /** `down-after-milliseconds` of the sentinels. @default 1000 */
  readonly downAfterMs?: number;
  /**
   * Keep the servers' data on disk (append-only files), so that {@link TestSentinelGroup.restartPrimary}
   * can bring the primary back with its data. @default false
   */
  readonly persistent?: boolean;
}

/** Runs `fn` with a short-lived client of a loopback server. */
async function withClient<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** The value of `field` in an INFO reply, or undefined. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/**
 * A Redis Sentinel deployment of throwaway processes on free loopback ports, for tests: a
 * primary, one replica and three sentinels (`redis-server --sentinel`, quorum 2). Nothing is kept
 * on disk once stopped.
 */
export class TestSentinelGroup {
  private constructor(
    readonly name: string,
    private readonly servers: TestRedisServer[],
    private readonly sentinels: TestRedisServer[],
  ) {}

  /** Starts the group and waits until every sentinel knows the replica and the other sentinels. */
  static async start(options: TestSentinelGroupOptions = {}): Promise<TestSentinelGroup> {
    const name = options.name ?? 'mymaster';
    const downAfterMs = options.downAfterMs ?? 1000;
    const persistent = options.persistent ?? false;
    const primary = await TestRedisServer.start(undefined, { persistent });
    // Made a replica by command, not on its command line: restarted, it comes back as a primary
    // with its data (a promoted replica restarted must not follow its first primary again); the
    // sentinels set its role.
    const replica = await TestRedisServer.start(undefined, { persistent });
    const sentinels: TestRedisServer[] = [];
    const group = new TestSentinelGroup(name, [primary, replica], sentinels);
    try {
      await withClient(replica.port, (c) => c.call('REPLICAOF', '127.0.0.1', String(primary.port)));
      await group.until(
        async () => {
          const info = await withClient(replica.port, (c) => c.info('replication'));
          return infoField(info, 'master_link_status') === 'up';
        },
        15_000,
        'the replica in sync',
      );
      for (let i = 0; i < 3; i++) {
        sentinels.push(
          await TestRedisServer.start(undefined, {
            sentinel: { name, primaryPort: primary.port, quorum: 2, downAfterMs },
          }),
        );
      }
      await group.until(
        async () => {
          for (const s of sentinels) {
            const known = await withClient(s.port, async (c) => {
              const replicas = (await c.call('SENTINEL', 'REPLICAS', name)) as unknown[];
              const peers = (await c.call('SENTINEL', 'SENTINELS', name)) as unknown[];
              return replicas.length === 1 && peers.length === 2;
            });
            if (!known) return false;
          }
          return true;
        },
        30_000,
        'every sentinel to know the replica and the two other sentinels',
      );
    } catch (err) {
      await group.stop();
      throw err;
    }
    return group;
  }

  /** The sentinels' addresses, `127.0.0.1:<port>`. */
  get sentinelAddresses(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** The port of the current primary, as the first sentinel that answers says. */
  async primaryPort(): Promise<number> {
    for (const s of this.sentinels) {
      try {
        const addr = await withClient(
          s.port,
          (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name) as Promise<string[]>,
        );
        return Number(addr[1]);
      } catch {
        // Try the next sentinel.
      }
    }
    throw new Error('no sentinel answers');
  }

  /**
   * Stops replication to the replica (`REPLICAOF NO ONE`: it keeps what it has and receives no
   * more writes), so that a failover soon after loses what the primary acknowledged since, as an
   * asynchronous replica that fell behind does. The sentinels would set it back as a replica only
   * after several seconds with a healthy primary.
   */
  async detachReplica(): Promise<void> {
    const primary = await this.primaryPort();
    const replica = this.servers.find((s) => s.port !== primary && s.running);
    if (!replica) throw new Error('no replica running');
    await withClient(replica.port, (c) => c.call('REPLICAOF', 'NO', 'ONE'));
  }

  /** SIGKILLs the current primary; returns its port. */
  async killPrimary(): Promise<number> {
    const port = await this.primaryPort();
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server of this group on port ${port}`);
    await server.kill();
    return port;
  }

  /**
   * SIGKILLs the current primary and starts it again on the same port after `downMs` (shorter than
   * the sentinels' `down-after-milliseconds`, or they fail over): empty, or with its data when the
   * group is persistent. Its replica then syncs from it again (an empty primary empties it).
   * @returns the primary's port
   */
  async restartPrimary(options: { empty: boolean; downMs: number }): Promise<number> {
    const port = await this.primaryPort();
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server of this group on port ${port}`);
    await server.kill();
    await sleep(options.downMs);
    await server.restart({ empty: options.empty });
    return port;
  }

  /**
   * Starts again, with its data, every server of the group that is not running (a primary killed
   * by {@link killPrimary}): the sentinels make it a replica of the current primary.
   */
  async restartStopped(): Promise<void> {
    for (const server of this.servers) if (!server.running) await server.restart();
  }

  /**
   * Waits until the sentinels name another primary than `oldPort` and it serves as one.
   * @returns the new primary's port
   */
  async waitForFailover(oldPort: number, timeoutMs = 30_000): Promise<number> {
    let port = oldPort;
    await this.until(
      async () => {
        port = await this.primaryPort();
        if (port === oldPort) return false;
        const info = await withClient(port, (c) => c.info('replication'));
        return infoField(info, 'role') === 'master';
      },
      timeoutMs,
      'a failover',
    );
    return port;
  }

  /** Stops every process. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((s) => s.stop()));
  }

  private async until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
