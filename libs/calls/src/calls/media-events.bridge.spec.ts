import type { TestingModule } from '@nestjs/testing';
import { MediaPlane, type MediaSignal } from '../media/media-plane.interface';
import { CallStateRepository } from '../state/call-state.repository';
import type { FakeDelivery, FakeMediaPlane } from '../testing/core-fakes';
import {
  afterFanOut,
  createCoreTestingModule,
  type JoinedSession,
  joinSession,
} from '../testing/core-testing-module';
import { CallDelivery } from './call-delivery.interface';
import { LocalSessions } from './local-sessions';
import { MediaEventsBridge } from './media-events.bridge';

const CHANNEL = 'channel-1';
const ANSWER: MediaSignal = { type: 'answer', sdp: 'v=0' };

/** Lets the bridge's asynchronous handlers (a state read, a removal) finish. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('MediaEventsBridge', () => {
  let moduleRef: TestingModule;
  let media: FakeMediaPlane;
  let delivery: FakeDelivery;
  let state: CallStateRepository;
  let alice: JoinedSession;

  beforeEach(async () => {
    moduleRef = await createCoreTestingModule();
    media = moduleRef.get<FakeMediaPlane>(MediaPlane);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    state = moduleRef.get<CallStateRepository>(CallStateRepository);
    alice = await joinSession(moduleRef, 'alice', 's1', CHANNEL);
    await joinSession(moduleRef, 'bob', 's2', CHANNEL);
    await afterFanOut();
    delivery.clear();
  });

  afterEach(() => moduleRef.close());

  const ref = (sessionId: string, userId: string) => ({
    callId: alice.call.id,
    sessionId,
    userId,
  });

  it('sends a signal to exactly the one session it is for', () => {
    media.emitSignal(ref('s1', 'alice'), ANSWER);

    expect(delivery.delivered).toEqual([
      {
        scope: 'session',
        target: 's1',
        event: {
          type: 'signal',
          channelId: CHANNEL,
          signal: ANSWER,
          userId: 'alice',
          sessionId: 's1',
        },
      },
    ]);
  });

  it('drops a signal for a session not served here', async () => {
    await state.addSession(alice.call.id, {
      sessionId: 'remote-1',
      userId: 'carol',
      instanceId: 'instance-elsewhere',
      unmuted: false,
      raisedHand: 0,
      video: false,
      joinAt: Date.now(),
    });

    media.emitSignal(ref('remote-1', 'carol'), ANSWER);

    expect(delivery.delivered).toEqual([]);
  });

  it('tells the participants who speaks', async () => {
    media.emitVoice(ref('s2', 'bob'), true);
    await nextTurn();

    expect(delivery.delivered).toEqual([
      {
        scope: 'participants',
        target: alice.call.id,
        event: { type: 'voice', speaking: true, userId: 'bob', sessionId: 's2' },
      },
    ]);
  });

  it('drops voice activity of a call that is over', async () => {
    media.emitVoice({ callId: 'ended-call', sessionId: 's9', userId: 'dave' }, false);
    await nextTurn();

    expect(delivery.delivered).toEqual([]);
  });

  it('removes a session the media plane closed by itself', async () => {
    media.emitSessionClosed(ref('s1', 'alice'), 'dtls-failed');
    await nextTurn();

    expect((await state.getCall(alice.call.id))?.sessions.s1).toBeUndefined();
    expect(moduleRef.get(LocalSessions).get('s1')).toBeUndefined();
    expect(alice.connection.sessionId).toBeUndefined();
    expect(delivery.ofType('session-left')[0]?.event).toMatchObject({ sessionId: 's1' });
  });

  it('stops listening when the module is destroyed', () => {
    moduleRef.get(MediaEventsBridge).onApplicationShutdown();

    media.emitSignal(ref('s1', 'alice'), ANSWER);

    expect(delivery.delivered).toEqual([]);
  });
});
