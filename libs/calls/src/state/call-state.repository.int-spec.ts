import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CallsModule } from '../calls.module';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { ScreenShareUnavailableError } from '../errors/screen-share-unavailable.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import { testRedisUrl } from '../testing/test-redis-url';
import { CallStateRepository } from './call-state.repository';
import { ChannelSettingsStore } from './channel-settings.store';
import type { CallSessionState } from './call-state.types';
import type { StateBackendMode } from '../config/state-backend-mode';

const session = (sessionId: string, userId: string, joinAt = Date.now()): CallSessionState => ({
  sessionId,
  userId,
  joinAt,
  unmuted: false,
  raisedHand: 0,
  video: false,
  instanceId: 'test-instance',
});

/** The CallStateRepository contract, run against every backend through the real module. */
describe.each<StateBackendMode>(['memory', 'redis', 'auto'])(
  'CallStateRepository contract [%s]',
  (backend) => {
    const prefix = `test:${backend}:${randomUUID()}:`;
    let moduleRef: TestingModule;
    let repo: CallStateRepository;
    let redis: Redis;

    beforeAll(async () => {
      moduleRef = await Test.createTestingModule({
        imports: [
          CallsModule.forRoot({
            stateBackend: backend,
            redisUrl: testRedisUrl(),
            redisKeyPrefix: prefix,
          }),
        ],
      }).compile();
      await moduleRef.init();
      repo = moduleRef.get(CallStateRepository);
      redis = new Redis(testRedisUrl());
    });

    afterAll(async () => {
      await moduleRef.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('starts one call per channel and finds it by id and by channel', async () => {
      const channelId = randomUUID();
      const first = await repo.startCall({
        channelId,
        ownerId: 'u1',
        title: 'standup',
        threadId: 't1',
      });
      const second = await repo.startCall({ channelId, ownerId: 'u2' });
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.call.id).toBe(first.call.id);
      expect(await repo.getCall(first.call.id)).toEqual(first.call);
      expect(await repo.getCallByChannel(channelId)).toEqual(first.call);
      expect((await repo.listActiveCalls()).map((c) => c.id)).toContain(first.call.id);
      expect(first.call).toMatchObject({
        ownerId: 'u1',
        title: 'standup',
        threadId: 't1',
        version: 1,
      });
    });

    it('joins: first joiner is host, sessions accumulate, versions grow', async () => {
      const channelId = randomUUID();
      const a = await repo.joinCall({ channelId, ownerId: 'u1' }, session('s1', 'u1', 1));
      const b = await repo.joinCall({ channelId, ownerId: 'u2' }, session('s2', 'u2', 2));
      expect(a.created).toBe(true);
      expect(b.created).toBe(false);
      expect(b.call.id).toBe(a.call.id);
      expect(Object.keys(b.call.sessions).sort()).toEqual(['s1', 's2']);
      expect(b.call.hostId).toBe('u1');
      expect(b.call.version).toBeGreaterThan(a.call.version);
    });

    it('mutes, raises hands, shares screens, sets host and dismisses notifications', async () => {
      const channelId = randomUUID();
      const { call } = await repo.joinCall({ channelId, ownerId: 'u1' }, session('s1', 'u1', 1));
      await repo.addSession(call.id, session('s2', 'u2', 2));
      expect((await repo.setMuted(call.id, 's1', false)).sessions.s1.unmuted).toBe(true);
      const raised = await repo.setRaisedHand(call.id, 's2', true);
      expect(raised.sessions.s2.raisedHand).toBeGreaterThan(0);
      expect((await repo.setRaisedHand(call.id, 's2', true)).sessions.s2.raisedHand).toBe(
        raised.sessions.s2.raisedHand,
      );
      expect((await repo.setRaisedHand(call.id, 's2', false)).sessions.s2.raisedHand).toBe(0);
      expect((await repo.setScreenSharer(call.id, 's2')).screenSharingSessionId).toBe('s2');
      await expect(repo.setScreenSharer(call.id, 's1')).rejects.toBeInstanceOf(
        ScreenShareUnavailableError,
      );
      expect(await repo.clearScreenSharer(call.id, 's1')).toMatchObject({ stopped: false });
      const cleared = await repo.clearScreenSharer(call.id, 's2');
      expect(cleared).toMatchObject({ stopped: true, call: { screenSharingSessionId: '' } });
      const hosted = await repo.setHost(call.id, 'u2', { lock: true });
      expect(hosted).toMatchObject({ hostId: 'u2', hostLockedUserId: 'u2' });
      expect((await repo.dismissNotification(call.id, 'u3')).dismissedNotification).toEqual({
        u3: true,
      });
      expect((await repo.updateSession(call.id, 's1', { video: true })).sessions.s1.video).toBe(
        true,
      );
      expect(await repo.getCall(call.id)).toEqual(await repo.getCallByChannel(channelId));
    });

    it('turns cameras on up to the limit, also when sessions turn theirs on at once', async () => {
      const channelId = randomUUID();
      const { call } = await repo.joinCall({ channelId, ownerId: 'u0' }, session('s0', 'u0', 0));
      for (let i = 1; i <= 6; i++) await repo.addSession(call.id, session(`s${i}`, `u${i}`, i));
      const results = await Promise.allSettled(
        [0, 1, 2, 3, 4, 5, 6].map((i) => repo.setVideo(call.id, `s${i}`, true, { maxCameras: 2 })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(VideoUnavailableError);
      }
      const stored = await repo.getCall(call.id);
      expect(Object.values(stored?.sessions ?? {}).filter((s) => s.video)).toHaveLength(2);
      const on = Object.values(stored?.sessions ?? {}).find((s) => s.video)!;
      expect(await repo.setVideo(call.id, on.sessionId, true, { maxCameras: 2 })).toMatchObject({
        changed: false,
      });
      expect(await repo.setVideo(call.id, on.sessionId, false)).toMatchObject({ changed: true });
    });

    it('removes sessions, reassigns the host, and ends the call with the last one', async () => {
      const channelId = randomUUID();
      const { call } = await repo.joinCall({ channelId, ownerId: 'u1' }, session('s1', 'u1', 1));
      await repo.addSession(call.id, session('s2', 'u2', 2));
      const left = await repo.removeSession(call.id, 's1');
      expect(left.removed?.userId).toBe('u1');
      expect(left.call?.hostId).toBe('u2');
      expect((await repo.removeSession(call.id, 'absent')).removed).toBeNull();
      const last = await repo.removeSession(call.id, 's2');
      expect(last.call).toBeNull();
      expect(last.previous?.id).toBe(call.id);
      expect(await repo.getCall(call.id)).toBeNull();
      expect(await repo.getCallByChannel(channelId)).toBeNull();
      expect((await repo.listActiveCalls()).map((c) => c.id)).not.toContain(call.id);
    });

    it('ends a call explicitly and reports whether it was active', async () => {
      const { call } = await repo.startCall({ channelId: randomUUID(), ownerId: 'u1' });
      expect(await repo.endCall(call.id)).toBe(true);
      expect(await repo.endCall(call.id)).toBe(false);
      expect(await repo.getCall(call.id)).toBeNull();
    });

    it('applies a generic update function and reports missing calls and sessions by name', async () => {
      const { call } = await repo.startCall({ channelId: randomUUID(), ownerId: 'u1' });
      const updated = await repo.update(call.id, (c) => ({ ...c, title: 'renamed' }));
      expect(updated?.title).toBe('renamed');
      await expect(repo.update(randomUUID(), (c) => c)).rejects.toBeInstanceOf(CallNotFoundError);
      await expect(repo.setMuted(call.id, 'nobody', true)).rejects.toBeInstanceOf(
        SessionNotFoundError,
      );
      await expect(repo.addSession(randomUUID(), session('s', 'u'))).rejects.toBeInstanceOf(
        CallNotFoundError,
      );
    });

    it('rejects bad ids with a named error and writes nothing', async () => {
      const before = (await repo.listActiveCalls()).length;
      await expect(repo.startCall({ channelId: '', ownerId: 'u' })).rejects.toBeInstanceOf(
        InvalidCallStateInputError,
      );
      await expect(repo.startCall({ channelId: 'x'.repeat(500), ownerId: 'u' })).rejects.toThrow(
        'at most 128',
      );
      await expect(repo.getCall('bad id')).rejects.toBeInstanceOf(InvalidCallStateInputError);
      await expect(
        repo.joinCall({ channelId: randomUUID(), ownerId: 'u' }, session('', 'u')),
      ).rejects.toBeInstanceOf(InvalidCallStateInputError);
      expect((await repo.listActiveCalls()).length).toBe(before);
    });

    it('keeps channel settings: calls are enabled unless disabled', async () => {
      const [channelId, other] = [randomUUID(), randomUUID()];
      expect(await repo.isChannelEnabled(channelId)).toBe(true);

      await repo.setChannelEnabled(channelId, false);

      expect(await repo.isChannelEnabled(channelId)).toBe(false);
      expect(await repo.isChannelEnabled(other)).toBe(true);
      expect(await moduleRef.get(ChannelSettingsStore).isEnabled(channelId)).toBe(false);
      await moduleRef.get(ChannelSettingsStore).setEnabled(channelId, true);
      expect(await repo.isChannelEnabled(channelId)).toBe(true);
      await expect(repo.setChannelEnabled('bad id', false)).rejects.toBeInstanceOf(
        InvalidCallStateInputError,
      );
      await expect(repo.isChannelEnabled('')).rejects.toBeInstanceOf(InvalidCallStateInputError);
    });

    if (backend !== 'memory') {
      it('keeps channel settings in the hash <prefix>channels, shared with other instances', async () => {
        const [channelId, other] = [randomUUID(), randomUUID()];
        await repo.setChannelEnabled(channelId, false);
        expect(await redis.hget(`${prefix}channels`, channelId)).toBe('0');
        await repo.setChannelEnabled(channelId, true);
        expect(await redis.hget(`${prefix}channels`, channelId)).toBe('1');

        // Written by another instance (of any version).
        await redis.hset(`${prefix}channels`, other, '0');
        expect(await repo.isChannelEnabled(other)).toBe(false);
        await redis.hdel(`${prefix}channels`, other);
        expect(await repo.isChannelEnabled(other)).toBe(true);
      });

      it('uses exactly the seed data model under the prefix', async () => {
        const channelId = randomUUID();
        const { call } = await repo.joinCall({ channelId, ownerId: 'u1' }, session('s1', 'u1'));
        expect(await redis.get(`${prefix}channel:${channelId}`)).toBe(call.id);
        expect(await redis.sismember(`${prefix}active`, call.id)).toBe(1);
        const stored = JSON.parse((await redis.get(`${prefix}state:${call.id}`)) ?? '{}');
        expect(stored).toMatchObject({ id: call.id, channelId, version: call.version });
        await repo.endCall(call.id);
        expect(
          await redis.exists(`${prefix}state:${call.id}`, `${prefix}channel:${channelId}`),
        ).toBe(0);
        expect(await redis.sismember(`${prefix}active`, call.id)).toBe(0);
      });

      it('names malformed stored JSON, never overwrites it, and skips it in listings', async () => {
        const callId = randomUUID();
        await redis.set(`${prefix}state:${callId}`, '{"version":1,"id":');
        await redis.sadd(`${prefix}active`, callId);
        await expect(repo.getCall(callId)).rejects.toBeInstanceOf(CorruptCallStateError);
        await expect(repo.update(callId, (c) => c)).rejects.toBeInstanceOf(CorruptCallStateError);
        expect(await redis.get(`${prefix}state:${callId}`)).toBe('{"version":1,"id":');
        await expect(repo.listActiveCalls()).resolves.toBeInstanceOf(Array);
        await redis.del(`${prefix}state:${callId}`);
        await redis.srem(`${prefix}active`, callId);
      });

      it('reports Redis as the serving mode', () => {
        expect(repo.status()).toMatchObject({ backend, mode: 'redis', redisReachable: true });
      });
    }
  },
);
