import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { TestSentinelGroup } from '../testing/redis-sentinel-group';
import { createRedis } from './redis-connection';

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * What ioredis' failover detector does when a sentinel announces a new primary: it closes the
 * client's connector. Done while the client is reconnecting (asking the sentinels where the
 * primary is), that makes the attempt fail with "Connection is closed." and, left to ioredis,
 * ends the client for good.
 */
function failoverDetectedWhileReconnecting(client: Redis): void {
  client.once('connecting', () =>
    queueMicrotask(() =>
      (client as unknown as { connector: { disconnect(): void } }).connector.disconnect(),
    ),
  );
  client.disconnect(true);
}

jest.setTimeout(30_000);

describe('createRedis with sentinels', () => {
  let group: TestSentinelGroup;
  const clients: Redis[] = [];

  beforeAll(async () => {
    group = await TestSentinelGroup.start();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await group.stop();
  });

  function connect(): Redis {
    const client = createRedis(
      {
        redisUrl: 'redis://127.0.0.1:1',
        redisSentinels: group.sentinelAddresses,
        redisSentinelName: group.name,
      },
      { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 50 },
    );
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  it('connects again when a failover is detected while it reconnects (ioredis would end it)', async () => {
    const client = connect();
    await client.connect();
    const statuses: string[] = [];
    client.on('end', () => statuses.push('end'));

    failoverDetectedWhileReconnecting(client);
    await until(() => statuses.includes('end'), 'the race to end the client');
    await until(() => client.status === 'ready', 'the client ready again');
    expect(await client.ping()).toBe('PONG');
  });

  it('connects its duplicates again the same way', async () => {
    const client = connect();
    await client.connect();
    const copy = client.duplicate({ lazyConnect: true });
    copy.on('error', () => undefined);
    clients.push(copy);
    await copy.connect();

    const ended = new Promise((resolve) => copy.once('end', resolve));
    failoverDetectedWhileReconnecting(copy);
    await ended;
    await until(() => copy.status === 'ready', 'the copy ready again');
    expect(await copy.ping()).toBe('PONG');
  });

  it('stays closed when its owner closes it', async () => {
    const client = connect();
    await client.connect();
    await client.quit();
    const other = connect();
    await other.connect();
    other.disconnect();
    await sleep(300);
    expect([client.status, other.status]).toEqual(['end', 'end']);
  });
});
