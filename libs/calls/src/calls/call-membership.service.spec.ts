import type { TestingModule } from '@nestjs/testing';
import { AlreadyInCallError } from '../errors/already-in-call.error';
import { CallFullError } from '../errors/call-full.error';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { DrainingError } from '../errors/draining.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { CallsPermissions } from '../identity/calls-permissions.interface';
import { MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository } from '../state/call-state.repository';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import {
  FakeConnection,
  type FakeDelivery,
  type FakeMediaPlane,
  type FakePermissions,
} from '../testing/core-fakes';
import {
  afterFanOut,
  createCoreTestingModule,
  joinSession,
  TEST_INSTANCE_ID,
  TEST_RECONNECT_GRACE_MS,
} from '../testing/core-testing-module';
import { CallDelivery } from './call-delivery.interface';
import { CallMembershipService } from './call-membership.service';
import { DrainState } from './drain-state';
import { HostControlsService } from './host-controls.service';
import { LocalSessions } from './local-sessions';
import { ParticipantActionsService } from './participant-actions.service';

const CHANNEL = 'channel-1';

describe('CallMembershipService', () => {
  let moduleRef: TestingModule;
  let membership: CallMembershipService;
  let state: CallStateRepository;
  let media: FakeMediaPlane;
  let delivery: FakeDelivery;
  let permissions: FakePermissions;
  let local: LocalSessions;

  const join = (userId: string, sessionId: string, channelId = CHANNEL) =>
    joinSession(moduleRef, userId, sessionId, channelId);

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    moduleRef = await createCoreTestingModule();
    membership = moduleRef.get(CallMembershipService);
    state = moduleRef.get<CallStateRepository>(CallStateRepository);
    media = moduleRef.get<FakeMediaPlane>(MediaPlane);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    permissions = moduleRef.get<FakePermissions>(CallsPermissions);
    local = moduleRef.get(LocalSessions);
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  describe('join', () => {
    it('starts the call with the first joiner as host, muted, served by its connection', async () => {
      const connection = new FakeConnection();

      const call = await membership.join({
        userId: 'alice',
        sessionId: 's1',
        channelId: CHANNEL,
        connection,
      });

      expect(call).toMatchObject({ channelId: CHANNEL, ownerId: 'alice', hostId: 'alice' });
      expect(call.sessions.s1).toMatchObject({
        userId: 'alice',
        unmuted: false,
        instanceId: TEST_INSTANCE_ID,
      });
      expect(await state.getCallByChannel(CHANNEL)).toEqual(call);
      expect(media.calls).toEqual([
        {
          method: 'openSession',
          ref: { callId: call.id, sessionId: 's1', userId: 'alice' },
          muted: true,
        },
      ]);
      expect(connection.place).toEqual({
        sessionId: 's1',
        callId: call.id,
        channelId: CHANNEL,
      });
      expect(local.get('s1')?.connection).toBe(connection);
    });

    it('opens the media with the options the protocol asks for, still muted', async () => {
      const connection = new FakeConnection();

      await membership.join({
        userId: 'alice',
        sessionId: 's1',
        channelId: CHANNEL,
        connection,
        media: { direction: 'publish', dataChannels: ['_lossy', '_reliable'] },
      });

      expect(media.callsOf('openSession')).toEqual([
        expect.objectContaining({
          muted: true,
          options: { direction: 'publish', dataChannels: ['_lossy', '_reliable'] },
        }),
      ]);
    });

    it("acknowledges at once and fans out on the next turn: call-started, session-joined, host, the joiner's state", async () => {
      const { call } = await join('alice', 's1');
      expect(delivery.summary()).toEqual(['session:s1:joined']);

      await afterFanOut();

      expect(delivery.summary()).toEqual([
        'session:s1:joined',
        `channel:${CHANNEL}:call-started`,
        `channel:${CHANNEL}:session-joined`,
        `participants:${call.id}:host-changed`,
        'user:alice:call-state',
      ]);
      expect(delivery.ofType('session-joined')[0]?.event).toMatchObject({
        userId: 'alice',
        sessionId: 's1',
      });
      expect(delivery.ofType('call-state')[0]?.event).toMatchObject({ forUserId: 'alice' });
    });

    it('adds a later joiner to the running call without call-started or a host change', async () => {
      const { call } = await join('alice', 's1');
      await afterFanOut();
      delivery.clear();

      const second = await join('bob', 's2');
      await afterFanOut();

      expect(second.call.id).toBe(call.id);
      expect(second.call.hostId).toBe('alice');
      expect(Object.keys(second.call.sessions).sort()).toEqual(['s1', 's2']);
      expect(delivery.summary()).toEqual([
        'session:s2:joined',
        `channel:${CHANNEL}:session-joined`,
        'user:bob:call-state',
      ]);
    });

    it('tells the participants when the host-locked user comes back and takes the host role again', async () => {
      const { call } = await join('alice', 's1');
      const bob = await join('bob', 's2');
      await moduleRef.get(HostControlsService).makeHost({ userId: 'alice' }, CHANNEL, 'bob');
      await membership.leave(bob.connection);
      await afterFanOut();
      delivery.clear();

      await join('bob', 's3');
      await afterFanOut();

      expect((await state.getCall(call.id))?.hostId).toBe('bob');
      expect(delivery.summary()).toEqual([
        'session:s3:joined',
        `channel:${CHANNEL}:session-joined`,
        `participants:${call.id}:host-changed`,
        'user:bob:call-state',
      ]);
      expect(delivery.ofType('host-changed')[0]?.event).toMatchObject({
        call: { hostId: 'bob' },
      });
    });

    it('sends no host change when the host-locked host joins with a second session', async () => {
      await join('alice', 's1');
      await join('bob', 's2');
      await moduleRef.get(HostControlsService).makeHost({ userId: 'alice' }, CHANNEL, 'bob');
      await afterFanOut();
      delivery.clear();

      await join('bob', 's3');
      await afterFanOut();

      expect(delivery.ofType('host-changed')).toEqual([]);
    });

    it("keeps both of a user's sessions in the call (a second device)", async () => {
      const first = await join('alice', 's1');
      const second = await join('alice', 's2');

      const call = await state.getCallByChannel(CHANNEL);
      expect(Object.values(call?.sessions ?? {}).map((s) => [s.sessionId, s.userId])).toEqual([
        ['s1', 'alice'],
        ['s2', 'alice'],
      ]);
      expect(media.callsOf('openSession').map((c) => c.ref.sessionId)).toEqual(['s1', 's2']);
      expect(first.connection.sessionId).toBe('s1');
      expect(second.connection.sessionId).toBe('s2');
    });

    it('keeps the other session of the user when one leaves, without a host change', async () => {
      const first = await join('alice', 's1');
      await join('alice', 's2');
      await afterFanOut();
      delivery.clear();

      await membership.leave(first.connection);

      const call = await state.getCallByChannel(CHANNEL);
      expect(Object.keys(call?.sessions ?? {})).toEqual(['s2']);
      expect(call?.hostId).toBe('alice');
      expect(delivery.summary()).toEqual([`channel:${CHANNEL}:session-left`]);
    });

    it('refuses a user who may not join the channel, and creates nothing', async () => {
      permissions.refuse('mallory', CHANNEL);
      const connection = new FakeConnection();

      const joining = membership.join({
        userId: 'mallory',
        sessionId: 's1',
        channelId: CHANNEL,
        connection,
      });

      await expect(joining).rejects.toThrow(ForbiddenError);
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(media.calls).toEqual([]);
      expect(connection.sessionId).toBeUndefined();
      expect(local.size).toBe(0);
      await afterFanOut();
      expect(delivery.delivered).toEqual([]);
    });

    it('refuses when the permission check fails (a failure counts as a refusal)', async () => {
      jest.spyOn(permissions, 'canJoinChannel').mockRejectedValue(new Error('host app down'));

      await expect(join('alice', 's1')).rejects.toThrow(ForbiddenError);
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
    });

    it('refuses a join in a channel where calls are disabled', async () => {
      await moduleRef.get(ChannelSettingsStore).setEnabled(CHANNEL, false);

      await expect(join('alice', 's1')).rejects.toThrow('calls are disabled in this channel');
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(media.calls).toEqual([]);
    });

    it('refuses joins while the instance drains', async () => {
      moduleRef.get(DrainState).draining = true;

      await expect(join('alice', 's1')).rejects.toThrow(DrainingError);
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(media.calls).toEqual([]);
    });

    it('refuses a connection that already serves a session', async () => {
      const { connection } = await join('alice', 's1');

      const again = membership.join({
        userId: 'alice',
        sessionId: 's2',
        channelId: CHANNEL,
        connection,
      });

      await expect(again).rejects.toThrow(AlreadyInCallError);
      const call = await state.getCallByChannel(CHANNEL);
      expect(Object.keys(call?.sessions ?? {})).toEqual(['s1']);
      expect(connection.sessionId).toBe('s1');
    });

    it('refuses a joiner over the participant limit before opening media', async () => {
      await moduleRef.close();
      moduleRef = await createCoreTestingModule({ maxCallParticipants: 1 });
      media = moduleRef.get<FakeMediaPlane>(MediaPlane);
      await joinSession(moduleRef, 'alice', 's1', CHANNEL);

      await expect(joinSession(moduleRef, 'bob', 's2', CHANNEL)).rejects.toThrow(CallFullError);
      expect(media.callsOf('openSession')).toHaveLength(1);
    });

    it('rolls the state back when the media plane cannot open the session (new call)', async () => {
      media.failNextOpen = new Error('no worker');
      const connection = new FakeConnection();

      const joining = membership.join({
        userId: 'alice',
        sessionId: 's1',
        channelId: CHANNEL,
        connection,
      });

      await expect(joining).rejects.toThrow('no worker');
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(connection.sessionId).toBeUndefined();
      expect(local.size).toBe(0);
      await afterFanOut();
      expect(delivery.delivered).toEqual([]);
    });

    it('rolls the state back when the media plane cannot open the session (running call)', async () => {
      await join('alice', 's1');
      await afterFanOut();
      delivery.clear();
      media.failNextOpen = new Error('no worker');

      await expect(join('bob', 's2')).rejects.toThrow('no worker');

      const call = await state.getCallByChannel(CHANNEL);
      expect(Object.keys(call?.sessions ?? {})).toEqual(['s1']);
      expect(local.get('s2')).toBeUndefined();
      await afterFanOut();
      expect(delivery.delivered).toEqual([]);
    });
  });

  describe('reconnect', () => {
    it('hands the session to the new connection inside the grace period', async () => {
      const { connection: old, call } = await join('alice', 's1');
      await afterFanOut();
      membership.connectionLost(old);
      jest.advanceTimersByTime(TEST_RECONNECT_GRACE_MS - 1);
      const fresh = new FakeConnection('fresh');

      const reconnected = await membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: fresh,
      });
      await jest.advanceTimersByTimeAsync(TEST_RECONNECT_GRACE_MS * 2);

      expect(reconnected.id).toBe(call.id);
      expect(fresh.place).toEqual({
        sessionId: 's1',
        callId: call.id,
        channelId: CHANNEL,
      });
      expect(local.get('s1')?.connection).toBe(fresh);
      expect(Object.keys((await state.getCall(call.id))?.sessions ?? {})).toEqual(['s1']);
      expect(delivery.ofType('joined')).toHaveLength(1);
      expect(delivery.ofType('session-left')).toEqual([]);
      expect(media.callsOf('openSession')).toHaveLength(1);
      expect(media.callsOf('closeSession')).toEqual([]);
      // What the media plane sent while the client was away may be lost: it is told.
      expect(media.callsOf('clientReconnected')).toEqual([
        { method: 'clientReconnected', sessionId: 's1' },
      ]);
    });

    it('detaches the old connection when the client is back before its loss was noticed', async () => {
      const { connection: old } = await join('alice', 's1');
      const fresh = new FakeConnection('fresh');

      await membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: fresh,
      });
      // The old connection closes late: it serves nothing any more, so nothing happens.
      membership.connectionLost(old);
      await membership.leave(old);
      await jest.advanceTimersByTimeAsync(TEST_RECONNECT_GRACE_MS * 2);

      expect(old.detached).toBe(1);
      expect(old.sessionId).toBeUndefined();
      expect(fresh.sessionId).toBe('s1');
      expect((await state.getCallByChannel(CHANNEL))?.sessions.s1).toBeDefined();
      expect(media.callsOf('closeSession')).toEqual([]);
    });

    it('finds the session by the previous connection id too', async () => {
      await join('alice', 's1');

      const call = await membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 'unknown',
        prevConnId: 's1',
        connection: new FakeConnection('fresh'),
      });

      expect(call.sessions.s1).toBeDefined();
      expect(local.get('s1')?.connection?.sessionId).toBe('s1');
    });

    it('removes the session when the grace period expires: a late reconnect finds no call', async () => {
      const { connection, call } = await join('alice', 's1');
      await afterFanOut();
      delivery.clear();
      membership.connectionLost(connection);

      await jest.advanceTimersByTimeAsync(TEST_RECONNECT_GRACE_MS);

      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(local.get('s1')).toBeUndefined();
      expect(media.callsOf('closeSession')).toEqual([{ method: 'closeSession', sessionId: 's1' }]);
      expect(media.callsOf('closeCall')).toEqual([{ method: 'closeCall', callId: call.id }]);
      expect(delivery.summary()).toEqual([`channel:${CHANNEL}:session-left`]);
      const late = membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: new FakeConnection('late'),
      });
      await expect(late).rejects.toThrow(CallNotFoundError);
    });

    it('removes the session when the grace period expires: a late reconnect finds no session', async () => {
      const { connection } = await join('alice', 's1');
      await join('bob', 's2');
      membership.connectionLost(connection);

      await jest.advanceTimersByTimeAsync(TEST_RECONNECT_GRACE_MS);

      const late = membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: new FakeConnection('late'),
      });
      await expect(late).rejects.toThrow(SessionNotFoundError);
      expect(Object.keys((await state.getCallByChannel(CHANNEL))?.sessions ?? {})).toEqual(['s2']);
    });

    it('refuses to hand a session to another user, who keeps nothing of it', async () => {
      const { connection } = await join('alice', 's1');
      const intruder = new FakeConnection('intruder');

      const taking = membership.reconnect({
        userId: 'mallory',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: intruder,
      });

      await expect(taking).rejects.toThrow(SessionNotFoundError);
      expect(intruder.sessionId).toBeUndefined();
      expect(connection.sessionId).toBe('s1');
      expect(local.get('s1')?.connection).toBe(connection);
    });

    it('refuses a reconnect by a user who may no longer join the channel', async () => {
      await join('alice', 's1');
      permissions.refuse('alice', CHANNEL);

      const taking = membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: new FakeConnection('fresh'),
      });

      await expect(taking).rejects.toThrow(ForbiddenError);
    });

    it('refuses to move a session onto a connection that serves another one', async () => {
      await join('alice', 's1');
      const { connection: busy } = await join('alice', 's2');

      const taking = membership.reconnect({
        userId: 'alice',
        channelId: CHANNEL,
        originalConnId: 's1',
        connection: busy,
      });

      await expect(taking).rejects.toThrow(AlreadyInCallError);
      expect(busy.sessionId).toBe('s2');
    });
  });

  describe('leave', () => {
    it('closes the media, tells the channel, and hands the host role on', async () => {
      const { connection, call } = await join('alice', 's1');
      await join('bob', 's2');
      await afterFanOut();
      delivery.clear();

      await membership.leave(connection);

      expect(connection.sessionId).toBeUndefined();
      expect(local.get('s1')).toBeUndefined();
      expect(media.callsOf('closeSession')).toEqual([{ method: 'closeSession', sessionId: 's1' }]);
      expect(media.callsOf('closeCall')).toEqual([]);
      const after = await state.getCall(call.id);
      expect(Object.keys(after?.sessions ?? {})).toEqual(['s2']);
      expect(after?.hostId).toBe('bob');
      expect(delivery.summary()).toEqual([
        `channel:${CHANNEL}:session-left`,
        `participants:${call.id}:host-changed`,
      ]);
      expect(delivery.ofType('session-left')[0]?.event).toMatchObject({
        userId: 'alice',
        sessionId: 's1',
      });
      expect(delivery.ofType('host-changed')[0]?.event).toMatchObject({
        call: { hostId: 'bob' },
      });
    });

    it('ends the call with the last leave: media call closed, state gone, no call-ended', async () => {
      const { connection, call } = await join('alice', 's1');
      await afterFanOut();
      delivery.clear();
      media.calls.length = 0;

      await membership.leave(connection);

      expect(await state.getCall(call.id)).toBeNull();
      expect(await state.getCallByChannel(CHANNEL)).toBeNull();
      expect(await state.listActiveCalls()).toEqual([]);
      expect(media.calls).toEqual([
        { method: 'closeSession', sessionId: 's1' },
        { method: 'closeCall', callId: call.id },
      ]);
      expect(delivery.summary()).toEqual([`channel:${CHANNEL}:session-left`]);
      expect(delivery.ofType('call-ended')).toEqual([]);
    });

    it('turns the screen share and the camera off when their session leaves', async () => {
      const sharer = await join('alice', 's1');
      await join('bob', 's2');
      const actions = moduleRef.get(ParticipantActionsService);
      await actions.screenOn(sharer.session, 'screen-stream');
      await actions.setVideo(sharer.session, true);
      await afterFanOut();
      delivery.clear();

      await membership.leave(sharer.connection);

      expect(delivery.summary()).toEqual([
        `participants:${sharer.call.id}:screen`,
        `participants:${sharer.call.id}:video`,
        `channel:${CHANNEL}:session-left`,
        `participants:${sharer.call.id}:host-changed`,
      ]);
      expect(delivery.ofType('screen')[0]?.event).toMatchObject({ on: false, sessionId: 's1' });
      expect(delivery.ofType('video')[0]?.event).toMatchObject({ on: false, sessionId: 's1' });
      expect((await state.getCallByChannel(CHANNEL))?.screenSharingSessionId).toBe('');
    });

    it('does nothing for a connection without a session', async () => {
      await membership.leave(new FakeConnection());

      expect(media.calls).toEqual([]);
      expect(delivery.delivered).toEqual([]);
    });
  });

  describe("a dead instance's sessions", () => {
    const remoteSession = (sessionId: string, userId: string, instanceId: string) => ({
      sessionId,
      userId,
      instanceId,
      unmuted: true,
      raisedHand: 0,
      video: false,
      joinAt: Date.now(),
    });

    it('are removed from the state with the usual events, without touching media here', async () => {
      const { call } = await state.joinCall(
        { channelId: CHANNEL, ownerId: 'bob' },
        remoteSession('remote-1', 'bob', 'instance-dead'),
      );
      await join('alice', 's1');
      await afterFanOut();
      delivery.clear();
      media.calls.length = 0;

      await membership.removeFromState(call.id, 'remote-1', 'instance instance-dead died');

      const after = await state.getCall(call.id);
      expect(Object.keys(after?.sessions ?? {})).toEqual(['s1']);
      expect(after?.hostId).toBe('alice');
      expect(delivery.summary()).toEqual([
        `channel:${CHANNEL}:session-left`,
        `participants:${call.id}:host-changed`,
      ]);
      expect(media.calls).toEqual([]);
      expect(local.get('s1')).toBeDefined();
    });

    it('end the call when they were its last sessions (its media here is released)', async () => {
      const { call } = await state.joinCall(
        { channelId: CHANNEL, ownerId: 'bob' },
        remoteSession('remote-1', 'bob', 'instance-dead'),
      );

      await membership.removeFromState(call.id, 'remote-1', 'instance instance-dead died');

      expect(await state.getCall(call.id)).toBeNull();
      expect(media.calls).toEqual([{ method: 'closeCall', callId: call.id }]);
      expect(delivery.summary()).toEqual([`channel:${CHANNEL}:session-left`]);
    });

    it('is a no-op for a session already gone', async () => {
      const { call } = await join('alice', 's1');
      delivery.clear();

      await membership.removeFromState(call.id, 'gone', 'instance x died');

      expect(delivery.delivered).toEqual([]);
    });
  });

  describe('removal when the state backend fails', () => {
    it('closes the media at once and retries the state removal every second', async () => {
      const { call } = await join('alice', 's1');
      await join('bob', 's2');
      await afterFanOut();
      delivery.clear();
      jest
        .spyOn(state, 'removeSession')
        .mockRejectedValueOnce(new CallStateUnavailableError('redis away'));

      membership.removeSessionInBackground('s1', 'left');
      await jest.advanceTimersByTimeAsync(0);

      expect(media.callsOf('closeSession')).toEqual([{ method: 'closeSession', sessionId: 's1' }]);
      expect((await state.getCall(call.id))?.sessions.s1).toBeDefined();
      expect(delivery.delivered).toEqual([]);

      await jest.advanceTimersByTimeAsync(1000);

      expect((await state.getCall(call.id))?.sessions.s1).toBeUndefined();
      expect(delivery.summary()).toEqual([
        `channel:${CHANNEL}:session-left`,
        `participants:${call.id}:host-changed`,
      ]);
    });
  });

  describe('shutdown', () => {
    it('removes every session served here', async () => {
      await join('alice', 's1');
      await join('bob', 's2', 'channel-2');

      await membership.onApplicationShutdown();

      expect(local.size).toBe(0);
      expect(await state.listActiveCalls()).toEqual([]);
      expect(
        media
          .callsOf('closeSession')
          .map((c) => c.sessionId)
          .sort(),
      ).toEqual(['s1', 's2']);
    });
  });
});
