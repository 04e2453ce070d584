import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CALLS_OPTIONS } from '../calls.constants';
import { resolveCallsOptions } from '../config/calls-options.defaults';
import { InstanceUnreachableError } from '../errors/instance-unreachable.error';
import { callsRedisClientProvider, redisKeysProvider } from '../state/call-state.providers';
import { RedisKeys } from '../state/redis-keys';
import { testRedisUrl } from '../testing/test-redis-url';
import { InstanceBus } from './instance-bus';
import { type BusEnvelope, type BusReplyEnvelope, parseBusEnvelope } from './instance-bus.messages';

const prefix = `test:bus:${randomUUID()}:`;
const keys = new RedisKeys(prefix);

async function bootBus(instanceId: string): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      {
        provide: CALLS_OPTIONS,
        useValue: resolveCallsOptions({
          stateBackend: 'redis',
          redisUrl: testRedisUrl(),
          redisKeyPrefix: prefix,
          instanceId,
        }),
      },
      callsRedisClientProvider,
      redisKeysProvider,
      InstanceBus,
    ],
  }).compile();
  return moduleRef.init();
}

/** Waits until someone listens on an instance's bus channel. */
async function listening(redis: Redis, instanceId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [, count] = (await redis.pubsub('NUMSUB', keys.bus(instanceId))) as [string, number];
    if (count > 0) return;
    await sleep(20);
  }
  throw new Error(`nobody listens on ${keys.bus(instanceId)}`);
}

/** The instance bus between two real instances (A and B) and a raw client posing as a third. */
describe('InstanceBus over Redis', () => {
  let a: TestingModule;
  let b: TestingModule;
  let busA: InstanceBus;
  let busB: InstanceBus;
  let raw: Redis;
  let rawSubscriber: Redis;
  /** What the raw client received on its own bus channel. */
  const rawInbox: BusEnvelope[] = [];
  const muted: { sessionId: string; muted: boolean; from: string }[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([bootBus('A'), bootBus('B')]);
    busA = a.get(InstanceBus);
    busB = b.get(InstanceBus);
    busB.handle('session.mute', ({ sessionId, muted: m }, from) => {
      muted.push({ sessionId, muted: m, from });
      return Promise.resolve();
    });
    busB.handle('pipe.list', ({ callId }) =>
      Promise.resolve({ producerIds: [`${callId}-p1`], exporting: false }),
    );
    raw = new Redis(testRedisUrl());
    rawSubscriber = new Redis(testRedisUrl());
    rawSubscriber.on('message', (_channel: string, text: string) => {
      rawInbox.push(parseBusEnvelope(text));
    });
    await rawSubscriber.subscribe(keys.bus('raw'));
    await Promise.all([listening(raw, 'A'), listening(raw, 'B')]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    rawSubscriber.disconnect();
    raw.disconnect();
  });

  beforeEach(() => {
    rawInbox.length = 0;
    muted.length = 0;
  });

  /** Publishes a raw message to B as the instance `raw`, and waits for B's reply to it. */
  async function sendRaw(message: Record<string, unknown>): Promise<BusReplyEnvelope> {
    await raw.publish(keys.bus('B'), JSON.stringify({ from: 'raw', ...message }));
    for (let i = 0; i < 100; i++) {
      const reply = rawInbox.find(
        (m): m is BusReplyEnvelope => m.replyTo !== undefined && m.replyTo === message.id,
      );
      if (reply) return reply;
      await sleep(20);
    }
    throw new Error(`no reply to ${String(message.id)}`);
  }

  it('delivers a typed request and returns the typed response', async () => {
    await expect(
      busA.request('B', 'session.mute', { sessionId: 's1', muted: true }),
    ).resolves.toBeUndefined();
    await expect(busA.request('B', 'pipe.list', { callId: 'c1' })).resolves.toEqual({
      producerIds: ['c1-p1'],
      exporting: false,
    });

    expect(muted).toEqual([{ sessionId: 's1', muted: true, from: 'A' }]);
  });

  it('answers a malformed request with an error and does not call the handler', async () => {
    const reply = await sendRaw({
      id: 'r1',
      type: 'session.mute',
      payload: { sessionId: 's1', muted: 'yes' },
    });

    expect(reply).toMatchObject({
      from: 'B',
      replyTo: 'r1',
      error: 'invalid session.mute request: muted is not a boolean',
    });
    expect(muted).toEqual([]);
  });

  it('answers a request of an unknown type with an error', async () => {
    const reply = await sendRaw({ id: 'r2', type: 'session.nope', payload: {} });

    expect(reply).toMatchObject({ replyTo: 'r2', error: 'no handler for session.nope' });
  });

  it('drops malformed messages and keeps serving', async () => {
    for (const text of ['{', 'null', '[]', '{"id":"r3"}', '{"id":"r4","from":"raw"}']) {
      await raw.publish(keys.bus('B'), text);
    }

    const reply = await sendRaw({
      id: 'r5',
      type: 'session.mute',
      payload: { sessionId: 's2', muted: false },
    });

    expect(reply).toMatchObject({ replyTo: 'r5' });
    expect(reply.error).toBeUndefined();
    expect(muted).toEqual([{ sessionId: 's2', muted: false, from: 'raw' }]);
    expect(rawInbox.filter((m) => m.replyTo === 'r3' || m.replyTo === 'r4')).toEqual([]);
  });

  it('rejects a malformed response', async () => {
    // The raw client answers A's request with a producer list that is not one.
    const answered = new Promise<void>((resolve) => {
      const onMessage = (_channel: string, text: string): void => {
        const request = JSON.parse(text) as { id: string; type?: string };
        if (request.type !== 'pipe.list') return;
        rawSubscriber.off('message', onMessage);
        void raw
          .publish(
            keys.bus('A'),
            JSON.stringify({ id: 'x', from: 'raw', replyTo: request.id, payload: { no: 1 } }),
          )
          .then(() => resolve());
      };
      rawSubscriber.on('message', onMessage);
    });

    const request = busA.request('raw', 'pipe.list', { callId: 'c1' });
    await answered;

    await expect(request).rejects.toThrow(InstanceUnreachableError);
    await expect(request).rejects.toThrow(
      'malformed pipe.list response: producerIds is not a list of strings',
    );
  });

  it('rejects at once when nobody listens', async () => {
    await expect(busA.request('nobody', 'session.screen-off', { sessionId: 's1' })).rejects.toThrow(
      'instance nobody unreachable: nobody listens',
    );
  });
});
