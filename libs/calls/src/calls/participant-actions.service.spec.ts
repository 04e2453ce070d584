import type { TestingModule } from '@nestjs/testing';
import type { CallsModuleOptions } from '../config/calls-options.interface';
import { ScreenShareUnavailableError } from '../errors/screen-share-unavailable.error';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import { MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository } from '../state/call-state.repository';
import type { FakeDelivery, FakeMediaPlane } from '../testing/core-fakes';
import {
  afterFanOut,
  createCoreTestingModule,
  type JoinedSession,
  joinSession,
} from '../testing/core-testing-module';
import { CallDelivery } from './call-delivery.interface';
import { CallMembershipService } from './call-membership.service';
import { ParticipantActionsService } from './participant-actions.service';

const CHANNEL = 'channel-1';
const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);

describe('ParticipantActionsService', () => {
  let moduleRef: TestingModule;
  let actions: ParticipantActionsService;
  let state: CallStateRepository;
  let media: FakeMediaPlane;
  let delivery: FakeDelivery;
  let alice: JoinedSession;
  let bob: JoinedSession;

  /** A call with alice (host) and bob, events and media calls of the joins forgotten. */
  async function startCall(options: CallsModuleOptions = {}): Promise<void> {
    moduleRef = await createCoreTestingModule(options);
    actions = moduleRef.get(ParticipantActionsService);
    state = moduleRef.get<CallStateRepository>(CallStateRepository);
    media = moduleRef.get<FakeMediaPlane>(MediaPlane);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    alice = await joinSession(moduleRef, 'alice', 's1', CHANNEL);
    bob = await joinSession(moduleRef, 'bob', 's2', CHANNEL);
    await afterFanOut();
    delivery.clear();
    media.calls.length = 0;
  }

  const session = async (sessionId: string) =>
    (await state.getCallByChannel(CHANNEL))?.sessions[sessionId];

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    jest.setSystemTime(NOW);
    await startCall();
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  it('unmutes and mutes: stored, forwarding resumed and paused, participants told', async () => {
    await actions.setMuted(alice.session, false);

    expect((await session('s1'))?.unmuted).toBe(true);
    expect(media.calls).toEqual([{ method: 'setAudioMuted', sessionId: 's1', muted: false }]);
    expect(delivery.delivered).toEqual([
      {
        scope: 'participants',
        target: alice.call.id,
        event: { type: 'muted', muted: false, userId: 'alice', sessionId: 's1' },
      },
    ]);

    await actions.setMuted(alice.session, true);

    expect((await session('s1'))?.unmuted).toBe(false);
    expect(media.calls[1]).toEqual({ method: 'setAudioMuted', sessionId: 's1', muted: true });
    expect(delivery.ofType('muted')[1]?.event).toMatchObject({ muted: true });
  });

  it('raises the hand with the time it went up, and lowers it', async () => {
    await actions.setHand(bob.session, true);

    expect((await session('s2'))?.raisedHand).toBe(NOW);
    expect(delivery.ofType('hand')[0]?.event).toEqual({
      type: 'hand',
      raisedHand: NOW,
      userId: 'bob',
      sessionId: 's2',
    });

    await actions.setHand(bob.session, false);

    expect((await session('s2'))?.raisedHand).toBe(0);
    expect(delivery.ofType('hand')[1]?.event).toMatchObject({ raisedHand: 0 });
  });

  it('sends a reaction to the participants, and nothing once the call is over', async () => {
    const emoji = { name: 'tada', unified: '1F389' };

    await actions.react(bob.session, emoji);

    expect(delivery.delivered).toEqual([
      {
        scope: 'participants',
        target: bob.call.id,
        event: { type: 'reacted', emoji, timestamp: NOW, userId: 'bob', sessionId: 's2' },
      },
    ]);

    const membership = moduleRef.get(CallMembershipService);
    await membership.leave(alice.connection);
    await membership.leave(bob.connection);
    delivery.clear();
    await actions.react(bob.session, emoji);
    expect(delivery.delivered).toEqual([]);
  });

  it('starts a screen share: one sharer, its stream named to the media plane', async () => {
    await actions.screenOn(alice.session, 'screen-stream');

    const call = await state.getCallByChannel(CHANNEL);
    expect(call?.screenSharingSessionId).toBe('s1');
    expect(call?.screenStartAt).toBe(NOW);
    expect(media.calls).toEqual([
      { method: 'setScreenStream', sessionId: 's1', streamId: 'screen-stream' },
    ]);
    expect(delivery.ofType('screen').map((d) => d.event)).toEqual([
      { type: 'screen', on: true, userId: 'alice', sessionId: 's1' },
    ]);
  });

  it('refuses a second sharer while one shares', async () => {
    await actions.screenOn(alice.session, 'screen-stream');
    delivery.clear();
    media.calls.length = 0;

    await expect(actions.screenOn(bob.session, 'other-stream')).rejects.toThrow(
      ScreenShareUnavailableError,
    );

    expect((await state.getCallByChannel(CHANNEL))?.screenSharingSessionId).toBe('s1');
    expect(media.calls).toEqual([]);
    expect(delivery.delivered).toEqual([]);
  });

  it('refuses screen sharing when it is not allowed', async () => {
    await moduleRef.close();
    await startCall({ allowScreenSharing: false });

    await expect(actions.screenOn(alice.session, 'screen-stream')).rejects.toThrow(
      'screen sharing is not allowed',
    );

    expect((await state.getCallByChannel(CHANNEL))?.screenSharingSessionId).toBe('');
    expect(media.calls).toEqual([]);
  });

  it("stops a screen share only for its sharer: another session's screen off does nothing", async () => {
    await actions.screenOn(alice.session, 'screen-stream');
    delivery.clear();
    media.calls.length = 0;

    await actions.screenOff(bob.session);

    expect((await state.getCallByChannel(CHANNEL))?.screenSharingSessionId).toBe('s1');
    expect(media.calls).toEqual([]);
    expect(delivery.delivered).toEqual([]);

    await actions.screenOff(alice.session);

    expect((await state.getCallByChannel(CHANNEL))?.screenSharingSessionId).toBe('');
    expect(media.calls).toEqual([{ method: 'setScreenStream', sessionId: 's1', streamId: null }]);
    expect(delivery.ofType('screen').map((d) => d.event)).toEqual([
      { type: 'screen', on: false, userId: 'alice', sessionId: 's1' },
    ]);
  });

  it('turns the camera on (its stream named to the media plane) and off, telling the participants once', async () => {
    await actions.setVideo(bob.session, true, 'cam-stream');

    expect((await session('s2'))?.video).toBe(true);
    expect(media.calls).toEqual([
      { method: 'setCameraStream', sessionId: 's2', streamId: 'cam-stream' },
    ]);
    expect(delivery.ofType('video').map((d) => d.event)).toEqual([
      { type: 'video', on: true, userId: 'bob', sessionId: 's2' },
    ]);

    // On again (LiveKit names the stream after it announced the camera): no second event.
    await actions.setVideo(bob.session, true, 'cam-stream-2');
    expect(delivery.ofType('video')).toHaveLength(1);

    await actions.setVideo(bob.session, false);

    expect((await session('s2'))?.video).toBe(false);
    expect(media.calls.at(-1)).toEqual({
      method: 'setCameraStream',
      sessionId: 's2',
      streamId: null,
    });
    expect(delivery.ofType('video')[1]?.event).toMatchObject({ on: false });
  });

  it("refuses a camera over the call's limit, and any camera when video is off", async () => {
    await moduleRef.close();
    await startCall({ maxCallCameras: 1 });
    await actions.setVideo(alice.session, true, 'a');
    await expect(actions.setVideo(bob.session, true, 'b')).rejects.toBeInstanceOf(
      VideoUnavailableError,
    );
    expect((await session('s2'))?.video).toBe(false);
    expect(media.calls).toEqual([{ method: 'setCameraStream', sessionId: 's1', streamId: 'a' }]);
    // Off is always allowed; then there is room.
    await actions.setVideo(alice.session, false);
    await actions.setVideo(bob.session, true, 'b');
    expect((await session('s2'))?.video).toBe(true);

    await moduleRef.close();
    await startCall({ enableVideo: false });
    await expect(actions.setVideo(bob.session, true, 'b')).rejects.toBeInstanceOf(
      VideoUnavailableError,
    );
    await actions.setVideo(bob.session, false);
    expect(delivery.ofType('video')).toEqual([]);
  });

  it("passes a session's preference for another session's camera or screen to the media plane", async () => {
    const track = (producerId: string, sessionId: string, type: 'video' | 'screen' | 'voice') =>
      media.tracks.push({
        producerId,
        callId: alice.session.callId,
        sessionId,
        userId: 'x',
        kind: type === 'voice' ? 'audio' : 'video',
        type,
        clientTrackId: producerId,
        streamId: producerId,
        mid: '0',
        paused: false,
      });
    track('cam-a', 's1', 'video');
    track('screen-a', 's1', 'screen');
    track('mic-a', 's1', 'voice');

    await actions.setTrackPreference(
      bob.session,
      { sessionId: 's1', type: 'video' },
      {
        width: 320,
        height: 180,
      },
    );
    await actions.setTrackPreference(
      bob.session,
      { sessionId: 's1', type: 'screen' },
      {
        disabled: true,
      },
    );

    expect(media.calls).toEqual([
      {
        method: 'setTrackPreference',
        viewerSessionId: 's2',
        producerId: 'cam-a',
        preference: { width: 320, height: 180 },
      },
      {
        method: 'setTrackPreference',
        viewerSessionId: 's2',
        producerId: 'screen-a',
        preference: { disabled: true },
      },
    ]);
  });

  it('hands descriptions and ICE candidates to the media plane', async () => {
    const candidate = { candidate: 'candidate:1 1 udp 1 192.0.2.1 5000 typ host', sdpMid: '0' };

    await actions.description(alice.session, { type: 'offer', sdp: 'v=0' });
    await actions.iceCandidate(alice.session, candidate);

    expect(media.calls).toEqual([
      {
        method: 'handleDescription',
        sessionId: 's1',
        description: { type: 'offer', sdp: 'v=0' },
      },
      { method: 'addIceCandidate', sessionId: 's1', candidate },
    ]);
    expect(delivery.delivered).toEqual([]);
  });
});
