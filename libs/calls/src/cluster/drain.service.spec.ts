import type { TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallDelivery } from '../calls/call-delivery.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import { LocalSessions } from '../calls/local-sessions';
import { DrainingError } from '../errors/draining.error';
import { MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository } from '../state/call-state.repository';
import type { FakeDelivery, FakeMediaPlane } from '../testing/core-fakes';
import {
  afterFanOut,
  createCoreTestingModule,
  type JoinedSession,
  joinSession,
  TEST_INSTANCE_ID,
} from '../testing/core-testing-module';
import { DrainService } from './drain.service';
import { type InstanceInfo, InstanceRegistry } from './instance-registry.service';

const CHANNEL = 'channel-1';
/** A drain timeout no test reaches: a drain that returns sooner did not wait for it. */
const LONG_DRAIN_MS = 5000;
/** A drain timeout a unit spec can wait for. */
const SHORT_DRAIN_MS = 300;

const instance = (id: string, draining = false): InstanceInfo => ({
  id,
  address: '192.0.2.1',
  sessions: 1,
  startedAt: 0,
  draining,
});

describe('DrainService', () => {
  let moduleRef: TestingModule;
  let drain: DrainService;
  let registry: InstanceRegistry;
  let delivery: FakeDelivery;
  let media: FakeMediaPlane;
  let state: CallStateRepository;
  let alice: JoinedSession;
  let bob: JoinedSession;

  /** Drains as a shutdown would, and tells how long it took (ms). */
  async function shutdown(): Promise<number> {
    const started = Date.now();
    await drain.beforeApplicationShutdown('SIGTERM');
    return Date.now() - started;
  }

  /** Alice and Bob in a call served here, with the given drain timeout. */
  async function start(drainTimeoutMs: number): Promise<void> {
    moduleRef = await createCoreTestingModule({ drainTimeoutMs });
    drain = moduleRef.get(DrainService);
    registry = moduleRef.get(InstanceRegistry);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    media = moduleRef.get<FakeMediaPlane>(MediaPlane);
    state = moduleRef.get<CallStateRepository>(CallStateRepository);
    alice = await joinSession(moduleRef, 'alice', 's1', CHANNEL);
    bob = await joinSession(moduleRef, 'bob', 's2', CHANNEL);
    await afterFanOut();
    delivery.clear();
  }

  /** Has the client of every session told to drain move away (join elsewhere, leave here). */
  function moveWhenTold(sessionIds: readonly string[]): void {
    const membership = moduleRef.get(CallMembershipService);
    const connections = new Map([
      ['s1', alice.connection],
      ['s2', bob.connection],
    ]);
    delivery.onDeliver = ({ event }) => {
      if (event.type !== 'draining' || !sessionIds.includes(event.sessionId)) return;
      const moving = connections.get(event.sessionId);
      if (moving) setTimeout(() => void membership.leave(moving), 10);
    };
  }

  /** The SIGINT listeners before a test: a drain removes the ones it added. */
  let sigintListeners = 0;

  beforeEach(async () => {
    sigintListeners = process.listenerCount('SIGINT');
    await start(LONG_DRAIN_MS);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await moduleRef.close();
  });

  it('without a signal (app.close()): refuses joins, does not wait, removes every session', async () => {
    const started = Date.now();
    await drain.beforeApplicationShutdown();
    const tookMs = Date.now() - started;

    expect(tookMs).toBeLessThan(LONG_DRAIN_MS);
    expect(delivery.ofType('draining')).toEqual([]);
    expect(moduleRef.get(LocalSessions).size).toBe(0);
    expect(await state.listActiveCalls()).toEqual([]);
    expect(
      media
        .callsOf('closeSession')
        .map((c) => c.sessionId)
        .sort(),
    ).toEqual(['s1', 's2']);
    await expect(joinSession(moduleRef, 'carol', 's3', CHANNEL)).rejects.toThrow(DrainingError);
  });

  it('without another instance: tells nobody to move and serves the call until its sessions leave', async () => {
    const membership = moduleRef.get(CallMembershipService);
    const draining = shutdown();
    await sleep(200);
    await expect(joinSession(moduleRef, 'carol', 's3', CHANNEL)).rejects.toThrow(DrainingError);
    expect(moduleRef.get(LocalSessions).size).toBe(2);
    await membership.leave(alice.connection);
    await sleep(200);
    expect(moduleRef.get(LocalSessions).size).toBe(1);
    await membership.leave(bob.connection);

    const tookMs = await draining;

    expect(tookMs).toBeGreaterThanOrEqual(400);
    expect(tookMs).toBeLessThan(LONG_DRAIN_MS);
    expect(delivery.ofType('draining')).toEqual([]);
    expect(delivery.ofType('session-left').map((d) => d.event.sessionId)).toEqual(['s1', 's2']);
  });

  it('waits for the last leave under way: it is written to the state before the drain ends', async () => {
    const membership = moduleRef.get(CallMembershipService);
    await membership.leave(bob.connection);
    // The session is gone from here at once; closing its media and removing it take a while.
    jest.spyOn(media, 'closeSession').mockImplementation(() => sleep(400));
    const draining = shutdown();
    await sleep(150);
    let left = false;
    const leaving = membership.leave(alice.connection).then(() => (left = true));

    await draining;

    expect(left).toBe(true);
    expect(await state.listActiveCalls()).toEqual([]);
    await leaving;
  });

  it('the same signal again ends the wait: the sessions still here are removed', async () => {
    const draining = shutdown();
    await sleep(200);
    process.emit('SIGINT', 'SIGINT');

    const tookMs = await draining;

    expect(tookMs).toBeLessThan(LONG_DRAIN_MS);
    expect(moduleRef.get(LocalSessions).size).toBe(0);
    expect(await state.listActiveCalls()).toEqual([]);
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });

  it('does not count another instance that drains too', async () => {
    jest
      .spyOn(registry, 'live')
      .mockResolvedValue([instance(TEST_INSTANCE_ID), instance('instance-other', true)]);

    const draining = shutdown();
    await sleep(200);
    process.emit('SIGTERM', 'SIGTERM');
    await draining;

    expect(delivery.ofType('draining')).toEqual([]);
  });

  it('tells nobody to move when the live instances cannot be read', async () => {
    jest.spyOn(registry, 'live').mockRejectedValue(new Error('redis away'));

    const draining = shutdown();
    await sleep(200);
    process.emit('SIGTERM', 'SIGTERM');
    await draining;

    expect(delivery.ofType('draining')).toEqual([]);
    expect(moduleRef.get(LocalSessions).size).toBe(0);
  });

  it('removes the sessions that stayed once the drain timeout is over', async () => {
    await moduleRef.close();
    await start(SHORT_DRAIN_MS);
    jest
      .spyOn(registry, 'live')
      .mockResolvedValue([instance(TEST_INSTANCE_ID), instance('instance-other')]);
    moveWhenTold(['s1']);

    const tookMs = await shutdown();

    expect(tookMs).toBeGreaterThanOrEqual(SHORT_DRAIN_MS - 10);
    expect(moduleRef.get(LocalSessions).size).toBe(0);
    expect(await state.listActiveCalls()).toEqual([]);
    expect(bob.connection.sessionId).toBeUndefined();
    expect(delivery.ofType('session-left').map((d) => d.event.sessionId)).toEqual(['s1', 's2']);
  });

  it('tells the sessions to move once another instance comes up during the wait', async () => {
    const live = jest.spyOn(registry, 'live').mockResolvedValue([instance(TEST_INSTANCE_ID)]);
    moveWhenTold(['s1', 's2']);
    const draining = shutdown();
    await sleep(200);
    expect(delivery.ofType('draining')).toEqual([]);
    live.mockResolvedValue([instance(TEST_INSTANCE_ID), instance('instance-new')]);

    const tookMs = await draining;

    expect(delivery.ofType('draining').map((d) => d.target)).toEqual(['s1', 's2']);
    expect(tookMs).toBeLessThan(LONG_DRAIN_MS);
    expect(moduleRef.get(LocalSessions).size).toBe(0);
  });

  describe('with another live instance', () => {
    beforeEach(() => {
      jest
        .spyOn(registry, 'live')
        .mockResolvedValue([instance(TEST_INSTANCE_ID), instance('instance-other')]);
    });

    it('tells each local session to move, and is done as soon as they all moved', async () => {
      moveWhenTold(['s1', 's2']);

      const tookMs = await shutdown();

      expect(delivery.ofType('draining')).toEqual([
        {
          scope: 'session',
          target: 's1',
          event: { type: 'draining', sessionId: 's1', reason: 'shutdown' },
        },
        {
          scope: 'session',
          target: 's2',
          event: { type: 'draining', sessionId: 's2', reason: 'shutdown' },
        },
      ]);
      expect(tookMs).toBeLessThan(LONG_DRAIN_MS);
      expect(moduleRef.get(LocalSessions).size).toBe(0);
    });

    it('tells only the sessions served here', async () => {
      await state.addSession(alice.call.id, {
        sessionId: 'remote-1',
        userId: 'carol',
        instanceId: 'instance-other',
        unmuted: false,
        raisedHand: 0,
        video: false,
        joinAt: Date.now(),
      });
      moveWhenTold(['s1', 's2']);

      await shutdown();

      expect(delivery.ofType('draining').map((d) => d.target)).toEqual(['s1', 's2']);
      expect((await state.getCall(alice.call.id))?.sessions['remote-1']).toBeDefined();
    });
  });
});
