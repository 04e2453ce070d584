import type { TestingModule } from '@nestjs/testing';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallsPermissions } from '../identity/calls-permissions.interface';
import { MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository } from '../state/call-state.repository';
import type { FakeDelivery, FakeMediaPlane, FakePermissions } from '../testing/core-fakes';
import {
  afterFanOut,
  createCoreTestingModule,
  type JoinedSession,
  joinSession,
} from '../testing/core-testing-module';
import { CallDelivery } from './call-delivery.interface';
import { HostControlsService } from './host-controls.service';
import { LocalSessions } from './local-sessions';
import { ParticipantActionsService } from './participant-actions.service';

const CHANNEL = 'channel-1';
const HOST: CallsPrincipal = { userId: 'alice' };
const MEMBER: CallsPrincipal = { userId: 'bob' };
/** Removal and end graces of the host controls (ms). */
const REMOVE_GRACE_MS = 3000;
const END_GRACE_MS = 5000;

describe('HostControlsService', () => {
  let moduleRef: TestingModule;
  let host: HostControlsService;
  let actions: ParticipantActionsService;
  let state: CallStateRepository;
  let media: FakeMediaPlane;
  let delivery: FakeDelivery;
  let permissions: FakePermissions;
  let alice: JoinedSession;
  let bob: JoinedSession;
  let carol: JoinedSession;

  const callNow = () => state.getCallByChannel(CHANNEL);

  /** Forgets the events and media calls so far. */
  const forget = () => {
    delivery.clear();
    media.calls.length = 0;
  };

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    moduleRef = await createCoreTestingModule();
    host = moduleRef.get(HostControlsService);
    actions = moduleRef.get(ParticipantActionsService);
    state = moduleRef.get<CallStateRepository>(CallStateRepository);
    media = moduleRef.get<FakeMediaPlane>(MediaPlane);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    permissions = moduleRef.get<FakePermissions>(CallsPermissions);
    alice = await joinSession(moduleRef, 'alice', 's1', CHANNEL);
    bob = await joinSession(moduleRef, 'bob', 's2', CHANNEL);
    carol = await joinSession(moduleRef, 'carol', 's3', CHANNEL);
    await afterFanOut();
    forget();
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  describe('permissions', () => {
    const controls: [string, (by: CallsPrincipal) => Promise<void>][] = [
      ['makeHost', (by) => host.makeHost(by, CHANNEL, 'carol')],
      ['mute', (by) => host.mute(by, CHANNEL, 's3')],
      ['muteOthers', (by) => host.muteOthers(by, CHANNEL)],
      ['screenOff', (by) => host.screenOff(by, CHANNEL, 's3')],
      ['lowerHand', (by) => host.lowerHand(by, CHANNEL, 's3')],
      ['remove', (by) => host.remove(by, CHANNEL, 's3')],
      ['end', (by) => host.end(by, CHANNEL)],
    ];

    it.each(controls)(
      '%s is refused to a participant who is neither host nor admin',
      async (_name, control) => {
        await actions.setMuted(carol.session, false);
        await actions.setHand(carol.session, true);
        await actions.screenOn(carol.session, 'screen-stream');
        const before = await callNow();
        forget();

        await expect(control(MEMBER)).rejects.toThrow(ForbiddenError);
        await expect(control(MEMBER)).rejects.toThrow('no permissions');
        await jest.advanceTimersByTimeAsync(END_GRACE_MS);

        expect(await callNow()).toEqual(before);
        expect(delivery.delivered).toEqual([]);
        expect(media.calls).toEqual([]);
      },
    );

    it('lets an admin (said by the permissions) use the host controls', async () => {
      permissions.admins.add('bob');

      await host.makeHost(MEMBER, CHANNEL, 'carol');

      expect((await callNow())?.hostId).toBe('carol');
    });

    it('lets an admin (said by the identity) use the host controls, even outside the call', async () => {
      await actions.setMuted(carol.session, false);

      await host.mute({ userId: 'root', isAdmin: true }, CHANNEL, 's3');

      expect((await callNow())?.sessions.s3?.unmuted).toBe(false);
    });

    it('answers CallNotFoundError for a channel without a call', async () => {
      await expect(host.muteOthers(HOST, 'channel-without-call')).rejects.toThrow(
        CallNotFoundError,
      );
    });
  });

  it('makes another participant host (host-locked) and tells the participants', async () => {
    await host.makeHost(HOST, CHANNEL, 'bob');

    const call = await callNow();
    expect(call).toMatchObject({ hostId: 'bob', hostLockedUserId: 'bob' });
    expect(delivery.summary()).toEqual([`participants:${call?.id}:host-changed`]);
  });

  it('refuses to make host a user who is not in the call', async () => {
    await expect(host.makeHost(HOST, CHANNEL, 'dave')).rejects.toThrow(SessionNotFoundError);

    expect((await callNow())?.hostId).toBe('alice');
    expect(delivery.delivered).toEqual([]);
  });

  it('mutes a session: asked, stored, enforced at the media plane, participants told', async () => {
    await actions.setMuted(bob.session, false);
    forget();

    await host.mute(HOST, CHANNEL, 's2');

    expect((await callNow())?.sessions.s2?.unmuted).toBe(false);
    expect(media.calls).toEqual([{ method: 'setAudioMuted', sessionId: 's2', muted: true }]);
    expect(delivery.delivered).toEqual([
      {
        scope: 'user',
        target: 'bob',
        event: { type: 'host-muted', channelId: CHANNEL, sessionId: 's2' },
      },
      {
        scope: 'participants',
        target: bob.call.id,
        event: { type: 'muted', muted: true, userId: 'bob', sessionId: 's2' },
      },
    ]);
  });

  it('does nothing when the session is muted already', async () => {
    await host.mute(HOST, CHANNEL, 's2');

    expect(media.calls).toEqual([]);
    expect(delivery.delivered).toEqual([]);
  });

  it('refuses to mute a session that is not in the call', async () => {
    await expect(host.mute(HOST, CHANNEL, 'nobody')).rejects.toThrow(SessionNotFoundError);
  });

  it("mutes every other participant, never the requester's own sessions", async () => {
    const second = await joinSession(moduleRef, 'alice', 's4', CHANNEL);
    for (const s of [alice, bob, carol, second]) await actions.setMuted(s.session, false);
    forget();

    await host.muteOthers(HOST, CHANNEL);

    const sessions = (await callNow())?.sessions;
    expect(sessions?.s1?.unmuted).toBe(true);
    expect(sessions?.s4?.unmuted).toBe(true);
    expect(sessions?.s2?.unmuted).toBe(false);
    expect(sessions?.s3?.unmuted).toBe(false);
    expect(media.callsOf('setAudioMuted').map((c) => [c.sessionId, c.muted])).toEqual([
      ['s2', true],
      ['s3', true],
    ]);
    expect(delivery.ofType('host-muted').map((d) => d.target)).toEqual(['bob', 'carol']);
  });

  it("stops a session's screen share: asked, cleared, forwarding stopped, participants told", async () => {
    await actions.screenOn(bob.session, 'screen-stream');
    forget();

    await host.screenOff(HOST, CHANNEL, 's2');

    expect((await callNow())?.screenSharingSessionId).toBe('');
    expect(media.calls).toEqual([{ method: 'setScreenStream', sessionId: 's2', streamId: null }]);
    expect(delivery.summary()).toEqual([
      'user:bob:host-stopped-screen',
      `participants:${bob.call.id}:screen`,
    ]);
    expect(delivery.ofType('screen')[0]?.event).toMatchObject({ on: false, sessionId: 's2' });
  });

  it('does nothing when the session does not share its screen', async () => {
    await actions.screenOn(bob.session, 'screen-stream');
    forget();

    await host.screenOff(HOST, CHANNEL, 's3');

    expect((await callNow())?.screenSharingSessionId).toBe('s2');
    expect(media.calls).toEqual([]);
    expect(delivery.delivered).toEqual([]);
  });

  it("lowers a session's raised hand", async () => {
    await actions.setHand(carol.session, true);
    forget();

    await host.lowerHand(HOST, CHANNEL, 's3');

    expect((await callNow())?.sessions.s3?.raisedHand).toBe(0);
    expect(delivery.summary()).toEqual([
      'user:carol:host-lowered-hand',
      `participants:${carol.call.id}:hand`,
    ]);
    expect(delivery.ofType('host-lowered-hand')[0]?.event).toMatchObject({
      sessionId: 's3',
      hostId: 'alice',
    });
    expect(delivery.ofType('hand')[0]?.event).toMatchObject({ raisedHand: 0, sessionId: 's3' });
  });

  it('does nothing when the hand is down', async () => {
    await host.lowerHand(HOST, CHANNEL, 's3');

    expect(delivery.delivered).toEqual([]);
  });

  it('removes a session: told at once, closed after the grace', async () => {
    await host.remove(HOST, CHANNEL, 's3');

    expect(delivery.summary()).toEqual([`participants:${carol.call.id}:host-removed`]);
    expect(delivery.ofType('host-removed')[0]?.event).toMatchObject({
      userId: 'carol',
      sessionId: 's3',
    });

    await jest.advanceTimersByTimeAsync(REMOVE_GRACE_MS - 1);
    expect((await callNow())?.sessions.s3).toBeDefined();

    await jest.advanceTimersByTimeAsync(1);
    expect((await callNow())?.sessions.s3).toBeUndefined();
    expect(moduleRef.get(LocalSessions).get('s3')).toBeUndefined();
    expect(carol.connection.sessionId).toBeUndefined();
    expect(media.callsOf('closeSession')).toEqual([{ method: 'closeSession', sessionId: 's3' }]);
    expect(delivery.ofType('session-left')[0]?.event).toMatchObject({ sessionId: 's3' });
  });

  it('removes a session served by an instance that does not answer from the state', async () => {
    await state.addSession(alice.call.id, {
      sessionId: 'remote-1',
      userId: 'dave',
      instanceId: 'instance-gone',
      unmuted: false,
      raisedHand: 0,
      video: false,
      joinAt: Date.now(),
    });

    await host.remove(HOST, CHANNEL, 'remote-1');
    await jest.advanceTimersByTimeAsync(REMOVE_GRACE_MS);

    expect((await callNow())?.sessions['remote-1']).toBeUndefined();
    expect(delivery.ofType('session-left')[0]?.event).toMatchObject({ sessionId: 'remote-1' });
    expect(media.callsOf('closeSession')).toEqual([]);
  });

  it('ends the call: call-ended to the channel at once, every session closed after the grace', async () => {
    await host.end(HOST, CHANNEL);

    expect(delivery.summary()).toEqual([`channel:${CHANNEL}:call-ended`]);

    await jest.advanceTimersByTimeAsync(END_GRACE_MS - 1);
    expect(Object.keys((await callNow())?.sessions ?? {})).toHaveLength(3);

    await jest.advanceTimersByTimeAsync(1);
    expect(await callNow()).toBeNull();
    expect(moduleRef.get(LocalSessions).size).toBe(0);
    expect(
      media
        .callsOf('closeSession')
        .map((c) => c.sessionId)
        .sort(),
    ).toEqual(['s1', 's2', 's3']);
    expect(media.callsOf('closeCall')).toEqual([{ method: 'closeCall', callId: alice.call.id }]);
    expect(delivery.ofType('session-left')).toHaveLength(3);
  });

  it('cancels its pending removals at shutdown', async () => {
    await host.remove(HOST, CHANNEL, 's3');

    host.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(REMOVE_GRACE_MS);

    expect((await callNow())?.sessions.s3).toBeDefined();
  });
});
