import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { TestRedisServer } from '../testing/redis-server';
import { createCallState } from './call-state.mutations';
import type { CallSessionState, CallState } from './call-state.types';
import { COMPARE_AND_SET_SCRIPT } from './redis-call-state.scripts';
import { RedisCallStateStore } from './redis-call-state.store';
import { RedisKeys } from './redis-keys';
import { VersionedCallStateRepository } from './versioned-call-state.repository';

const session = (sessionId: string): CallSessionState => ({
  sessionId,
  userId: `user-${sessionId}`,
  unmuted: false,
  raisedHand: 0,
  video: false,
  joinAt: 1,
  instanceId: 'test-instance',
});

/** Scripts Redis has run so far (EVAL and EVALSHA in INFO commandstats). */
async function scriptRuns(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return calls('eval') + calls('evalsha');
}

/**
 * The Redis store's compare-and-swap: the writes issued together go as one script run, each
 * checked on its own; a conflict returns the stored state; documents of older writers are read.
 */
describe('RedisCallStateStore compare-and-swap', () => {
  const keys = new RedisKeys('test:store:');
  const clients: Redis[] = [];
  // A server of its own: the spec counts the scripts Redis runs.
  let server: TestRedisServer;
  let admin: Redis;

  const connect = (): Redis => {
    const client = new Redis(server.url, { enableOfflineQueue: false });
    clients.push(client);
    return client;
  };
  const ready = (client: Redis): Promise<unknown> =>
    client.status === 'ready' ? Promise.resolve() : new Promise((r) => client.once('ready', r));
  const newStore = async (): Promise<RedisCallStateStore> => {
    const client = connect();
    await ready(client);
    return new RedisCallStateStore(client, keys);
  };
  const created = async (store: RedisCallStateStore): Promise<CallState> => {
    const call = createCallState({ channelId: randomUUID(), ownerId: 'owner' }, 1);
    expect((await store.create(call)).created).toBe(true);
    return call;
  };
  const bumped = (call: CallState, title: string): CallState => ({
    ...call,
    title,
    version: call.version + 1,
  });

  beforeAll(async () => {
    server = await TestRedisServer.start();
    admin = connect();
    await ready(admin);
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server.stop();
  });

  it('sends the writes of one tick as one script run and applies each', async () => {
    const store = await newStore();
    const calls = await Promise.all(Array.from({ length: 10 }, () => created(store)));
    // The first write on a fresh server also loads the script (an EVALSHA refused, then EVAL).
    const first = await created(store);
    await store.compareAndSet(first, bumped(first, 'loads the script'));
    const before = await scriptRuns(admin);

    const results = await Promise.all(calls.map((c) => store.compareAndSet(c, bumped(c, 'new'))));

    expect(results).toEqual(calls.map(() => ({ status: 'ok' })));
    expect((await scriptRuns(admin)) - before).toBe(1);
    for (const c of calls) {
      expect(JSON.parse((await admin.get(keys.state(c.id))) ?? '{}')).toMatchObject({
        version: c.version + 1,
        title: 'new',
      });
    }
  });

  it('writes when Redis no longer has the script (a restart, SCRIPT FLUSH): sends its text', async () => {
    const store = await newStore();
    const call = await created(store);
    await admin.script('FLUSH');

    await expect(store.compareAndSet(call, bumped(call, 'after flush'))).resolves.toEqual({
      status: 'ok',
    });
    const next = bumped(call, 'after flush');
    // Loaded again by that run: the next write goes by its hash.
    await expect(store.compareAndSet(next, bumped(next, 'again'))).resolves.toEqual({
      status: 'ok',
    });
    expect(JSON.parse((await admin.get(keys.state(call.id))) ?? '{}')).toMatchObject({
      version: call.version + 2,
      title: 'again',
    });
    expect(
      await admin.script('EXISTS', createHash('sha1').update(COMPARE_AND_SET_SCRIPT).digest('hex')),
    ).toEqual([1]);
  });

  it('reports a conflict with the stored state, missing calls, and errors per call', async () => {
    const store = await newStore();
    const [fresh, stale, gone, broken] = await Promise.all([1, 2, 3, 4].map(() => created(store)));
    await admin.set(keys.state(stale.id), JSON.stringify(bumped(stale, 'theirs')));
    await admin.del(keys.state(gone.id));
    await admin.del(keys.state(broken.id));
    await admin.hset(keys.state(broken.id), 'f', 'v');

    const [ok, conflict, missing, failed] = await Promise.allSettled([
      store.compareAndSet(fresh, bumped(fresh, 'mine')),
      store.compareAndSet(stale, bumped(stale, 'mine')),
      store.compareAndSet(gone, bumped(gone, 'mine')),
      store.compareAndSet(broken, bumped(broken, 'mine')),
    ]);

    expect(ok).toEqual({ status: 'fulfilled', value: { status: 'ok' } });
    expect(conflict).toEqual({
      status: 'fulfilled',
      value: { status: 'conflict', current: bumped(stale, 'theirs') },
    });
    expect(missing).toEqual({ status: 'fulfilled', value: { status: 'missing' } });
    expect(failed.status).toBe('rejected');
    expect(String((failed as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(JSON.parse((await admin.get(keys.state(stale.id))) ?? '{}').title).toBe('theirs');
    expect(await admin.exists(keys.state(gone.id))).toBe(0);
    // Alone in its script run, too.
    await expect(store.compareAndSet(broken, bumped(broken, 'mine'))).rejects.toThrow(/WRONGTYPE/);
    await admin.del(keys.state(broken.id));
  });

  it('compares and updates a document an older writer stored in another field order', async () => {
    const store = await newStore();
    const call = await created(store);
    const { version, ...rest } = { ...call, version: 7 };
    await admin.set(keys.state(call.id), JSON.stringify({ ...rest, version }));
    const stored = (await store.get(call.id))!;
    expect(stored.version).toBe(7);

    expect(await store.compareAndSet(call, bumped(call, 'stale'))).toMatchObject({
      status: 'conflict',
    });
    expect(await store.compareAndSet(stored, bumped(stored, 'next'))).toEqual({ status: 'ok' });
    expect(JSON.parse((await admin.get(keys.state(call.id))) ?? '{}')).toMatchObject({
      version: 8,
      title: 'next',
    });
  });

  it('ends a call only at the expected version, removing its keys together', async () => {
    const store = await newStore();
    const call = await created(store);
    const next = bumped(call, 'later');
    expect(await store.compareAndSet(call, next)).toEqual({ status: 'ok' });

    expect(await store.compareAndSet(call, null)).toEqual({ status: 'conflict', current: next });
    expect(await admin.exists(keys.state(call.id))).toBe(1);
    expect(await store.compareAndSet(next, null)).toEqual({ status: 'ok' });
    expect(await admin.exists(keys.state(call.id), keys.channel(call.channelId))).toBe(0);
    expect(await admin.sismember(keys.active(), call.id)).toBe(0);
    expect(await store.compareAndSet(next, null)).toEqual({ status: 'missing' });
  });

  const twoInstances = (): Promise<VersionedCallStateRepository[]> =>
    Promise.all(
      [1, 2].map(
        async () =>
          new VersionedCallStateRepository(
            await newStore(),
            () => ({
              backend: 'redis',
              mode: 'redis',
              redisReachable: true,
              fallbacks: 0,
              pendingMerges: 0,
            }),
            { maxCasAttempts: 50 },
          ),
      ),
    );

  it('does not fail a mutation on a stale cached state: it reads the call again first', async () => {
    const [a, b] = await twoInstances();
    const { call } = await a.startCall(randomInput());
    await b.getCall(call.id); // b caches the call without the session
    await a.addSession(call.id, session('late'));

    const muted = await b.setMuted(call.id, 'late', false);

    expect(muted.sessions.late).toMatchObject({ unmuted: true });
    await expect(b.setMuted(call.id, 'absent', false)).rejects.toThrow(
      /session is not in the call/,
    );
  });

  it('does not take a mutation as done because a stale cached state needs no change', async () => {
    const [a, b] = await twoInstances();
    const { call } = await a.startCall(randomInput());
    await b.getCall(call.id); // b caches the call without the session
    await a.addSession(call.id, session('late'));

    // b removes it (e.g. cleaning up after an instance that died): its cache has no such session.
    await b.removeSession(call.id, 'late');

    expect((await a.getCall(call.id))?.sessions.late).toBeUndefined();
  });

  it('loses no update when two instances mutate many calls at once', async () => {
    const repos = await twoInstances();
    const calls = await Promise.all(
      Array.from({ length: 20 }, async () => (await repos[0].startCall(randomInput())).call),
    );
    const PER_CALL = 12;

    await Promise.all(
      calls.flatMap((call) =>
        Array.from({ length: PER_CALL }, (_, i) =>
          repos[i % 2].addSession(call.id, session(`${call.id}-s${i}`)),
        ),
      ),
    );

    for (const call of calls) {
      const stored = JSON.parse((await admin.get(keys.state(call.id))) ?? '{}') as CallState;
      expect(Object.keys(stored.sessions).sort()).toEqual(
        Array.from({ length: PER_CALL }, (_, i) => `${call.id}-s${i}`).sort(),
      );
    }
  });
});

function randomInput() {
  return { channelId: randomUUID(), ownerId: 'owner' };
}
