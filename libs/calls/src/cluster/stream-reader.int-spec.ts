import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer } from '../testing/redis-server';
import { pacedStreamReader } from './stream-reader';

/**
 * The read loop of `@socket.io/redis-streams-adapter` (`startPolling`): read, and on failure read
 * again at once. Bounded (`maxReads`, `stop`), so that a loop that spins fails the test instead of
 * hanging it.
 */
async function adapterReadLoop(
  client: Redis,
  maxReads: number,
  stop: () => boolean = () => false,
): Promise<number> {
  let reads = 0;
  const poll = async (): Promise<void> => {
    reads++;
    try {
      await client.xread('COUNT', 100, 'BLOCK', 100, 'STREAMS', 'socket.io', '$');
    } catch {
      // the adapter logs and reads again
    }
    if (reads < maxReads && !stop()) await poll();
  };
  await poll();
  return reads;
}

/** A client that refuses every command at once (`end`, as ioredis leaves a client it gave up). */
function endedClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true });
  client.on('error', () => undefined);
  client.disconnect();
  return client;
}

describe('pacedStreamReader', () => {
  let server: TestRedisServer;

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('keeps the event loop turning while the reader refuses every command', async () => {
    let timerFired = false;
    const timer = setTimeout(() => (timerFired = true), 20);

    // Unpaced, the loop never lets the timer run: all its reads happen within one turn.
    expect(await adapterReadLoop(endedClient(server.url), 20_000)).toBe(20_000);
    expect(timerFired).toBe(false);

    // Paced, each refused read waits for a timer: few reads, and everything else runs.
    let stopped = false;
    const reads = adapterReadLoop(
      pacedStreamReader(endedClient(server.url)),
      20_000,
      () => stopped,
    );
    await sleep(500);
    stopped = true;
    clearTimeout(timer);
    expect(timerFired).toBe(true);
    expect(await reads).toBeLessThanOrEqual(7);
  });

  it('reads as before once the connection is ready', async () => {
    const reader = pacedStreamReader(new Redis(server.url));
    const writer = new Redis(server.url);
    try {
      const read = reader.xread('BLOCK', 2000, 'STREAMS', 'paced-test', '$');
      await sleep(200);
      await writer.xadd('paced-test', '*', 'k', 'v');
      const result = await read;
      expect(result?.[0]?.[1]?.[0]?.[1]).toEqual(['k', 'v']);
    } finally {
      reader.disconnect();
      writer.disconnect();
    }
  });
});
