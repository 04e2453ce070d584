import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer } from '../testing/redis-server';
import type { CallSessionState, CallState } from './call-state.types';
import { FallbackCallStateStore } from './fallback-call-state.store';
import { RedisCallStateStore } from './redis-call-state.store';
import { RedisKeys } from './redis-keys';

const keys = new RedisKeys();

function session(sessionId: string, instanceId: string): CallSessionState {
  return {
    sessionId,
    userId: `user-${sessionId}`,
    unmuted: true,
    raisedHand: 0,
    video: false,
    joinAt: Date.now(),
    instanceId,
  };
}

/** One instance's `auto` store on its own connection to the server. */
function instance(server: TestRedisServer, instanceId: string) {
  const client = new Redis(server.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  const remote = new RedisCallStateStore(client, keys);
  const store = new FallbackCallStateStore(remote, client, { instanceId, probeIntervalMs: 50 });
  return { client, remote, store };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Two instances of the `auto` backend serving one call when Redis restarts empty: each puts back
 * the sessions it serves. The one that finds the call missing and then loses the race to create
 * it (the other instance recreated the very same call id meanwhile) must merge into it, not take
 * its own mirror of the call for ended.
 */
describe('FallbackCallStateStore: two instances put back one call after an empty restart', () => {
  let server: TestRedisServer;
  let reader: Redis;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await TestRedisServer.start();
    reader = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    reader.on('error', () => undefined);
  });

  afterAll(async () => {
    for (const close of closers) await close();
    reader.disconnect();
    await server.stop();
  });

  it('keeps both instances’ sessions when the second recreate finds the same call id', async () => {
    const a = instance(server, 'inst-a');
    const b = instance(server, 'inst-b');
    for (const i of [a, b]) {
      closers.push(async () => {
        await i.store.close();
        i.client.disconnect();
      });
    }
    await Promise.all([a, b].map((i) => until(() => i.client.status === 'ready', 'ready')));
    const call: CallState = {
      version: 1,
      id: randomUUID(),
      channelId: randomUUID(),
      startAt: Date.now(),
      ownerId: 'user-sa',
      hostId: 'user-sa',
      hostLockedUserId: '',
      threadId: '',
      postId: '',
      title: '',
      screenSharingSessionId: '',
      screenStartAt: 0,
      dismissedNotification: {},
      sessions: { sa: session('sa', 'inst-a') },
    };
    expect((await a.store.create(call)).created).toBe(true);
    const both = {
      ...call,
      version: 2,
      sessions: { ...call.sessions, sb: session('sb', 'inst-b') },
    };
    expect(await b.store.compareAndSet((await b.store.getForUpdate(call.id))!, both)).toEqual({
      status: 'ok',
    });
    // Both mirror the call with both sessions.
    expect(Object.keys((await a.store.get(call.id))!.sessions).sort()).toEqual(['sa', 'sb']);

    // A finds the call missing; B recreates it before A tries to: A's create loses the race.
    let missingForA = false;
    const realGet = a.remote.get.bind(a.remote);
    jest.spyOn(a.remote, 'get').mockImplementation(async (id) => {
      const found = await realGet(id);
      if (found === null && id === call.id && !missingForA) {
        missingForA = true;
        await until(async () => (await reader.exists(keys.state(call.id))) === 1, 'B recreating');
      }
      return found;
    });
    const realCreate = b.remote.create.bind(b.remote);
    jest.spyOn(b.remote, 'create').mockImplementation(async (c) => {
      await until(() => missingForA, 'A finding the call missing');
      return realCreate(c);
    });

    await server.kill();
    await until(() => !a.store.redisHealthy && !b.store.redisHealthy, 'both on memory');
    await server.restart({ empty: true });
    await until(() => a.store.redisHealthy && b.store.redisHealthy, 'both back on Redis');

    const stored = await reader.get(keys.state(call.id));
    const sessions = stored ? Object.keys((JSON.parse(stored) as CallState).sessions).sort() : [];
    expect(sessions).toEqual(['sa', 'sb']);
    expect(Object.keys((await a.store.get(call.id))!.sessions).sort()).toEqual(['sa', 'sb']);
  });
});
