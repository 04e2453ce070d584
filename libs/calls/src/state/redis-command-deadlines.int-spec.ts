import { Redis } from 'ioredis';
import { TestRedisServer } from '../testing/redis-server';
import { RedisCommandDeadlines } from './redis-command-deadlines';

describe('RedisCommandDeadlines', () => {
  let server: TestRedisServer;
  let client: Redis;
  let deadlines: RedisCommandDeadlines;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    client = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
    deadlines = new RedisCommandDeadlines(client, 200);
  });

  afterAll(async () => {
    deadlines.stop();
    client.disconnect();
    await server.stop();
  });

  it('fails a command unanswered after the timeout, and only that long after', async () => {
    const stalled = server.stall(700);
    const started = Date.now();
    const outcome = await client.get('k').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const waited = Date.now() - started;
    await stalled;

    expect(outcome).toBe('Command timed out');
    // One timeout to a timeout and a sweep (a quarter), with some slack for the machine.
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(600);
  });

  it('leaves answered commands alone and forgets them', async () => {
    await client.set('k', 'v');
    const replies = await Promise.all(Array.from({ length: 100 }, () => client.get('k')));
    await new Promise((r) => setTimeout(r, 500));

    expect(replies.every((v) => v === 'v')).toBe(true);
    expect(deadlines.pending).toBe(0);
  });
});
