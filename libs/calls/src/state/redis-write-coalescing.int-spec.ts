import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { TestRedisServer } from '../testing/redis-server';
import { coalesceWritesPerTick } from './redis-write-coalescing';

/** Counts the writes that reach the client's socket (one per system call). */
function countWrites(client: Redis): () => number {
  const socket = client.stream as Socket & { _writev?: Socket['_writev'] };
  let writes = 0;
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (...args: Parameters<Socket['_write']>) => {
    writes++;
    write(...args);
  };
  if (writev) {
    socket._writev = (...args: Parameters<NonNullable<Socket['_writev']>>) => {
      writes++;
      writev(...args);
    };
  }
  return () => writes;
}

describe('coalesceWritesPerTick', () => {
  let server: TestRedisServer;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  async function connected(coalesce: boolean): Promise<Redis> {
    const client = new Redis(server.url, { lazyConnect: true });
    clients.push(client);
    await client.connect();
    return coalesce ? coalesceWritesPerTick(client) : client;
  }

  it('sends the commands of one tick in one write, each answered and applied in order', async () => {
    const client = await connected(true);
    const writes = countWrites(client);

    const sent = Array.from({ length: 20 }, (_, i) => client.rpush('list', `v${i}`));
    expect(await Promise.all(sent)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    expect(writes()).toBe(1);
    expect(await client.lrange('list', 0, -1)).toEqual(sent.map((_, i) => `v${i}`));
  });

  it('without it, the same commands take one write each', async () => {
    const client = await connected(false);
    const writes = countWrites(client);

    await Promise.all(Array.from({ length: 20 }, (_, i) => client.rpush('other', `v${i}`)));

    expect(writes()).toBe(20);
  });

  it('sends the commands of later ticks in writes of their own', async () => {
    const client = await connected(true);
    const writes = countWrites(client);

    await client.set('a', '1');
    await client.set('b', '2');

    expect(writes()).toBe(2);
    expect(await client.mget('a', 'b')).toEqual(['1', '2']);
  });
});
