import {
  AddTrackRequest,
  SessionDescription,
  SignalTarget,
  TrackSource,
  TrackType,
} from '@livekit/protocol';
import { InvalidMessageError } from '../errors';
import type { MediaTrack } from '../media/media-plane.interface';
import { LiveKitIds } from '../protocol/livekit/livekit-ids';
import type { TrackView } from '../protocol/livekit/participant-view';
import { FakeMediaPlane } from '../testing/core-fakes';
import { LiveKitMediaBinding } from './livekit-media.binding';
import type { LiveKitMediaEvents } from './livekit-media-session.interface';

const REF = {
  callId: 'call1',
  channelId: 'ch1',
  sessionId: 's1',
  userId: 'u1',
  participantSid: 'PA_s1',
  grants: {
    canPublish: true,
    canSubscribe: true,
    canPublishData: true,
    canPublishSources: [],
    canUpdateOwnMetadata: false,
    hidden: false,
  },
};

const track = (over: Partial<MediaTrack> = {}): MediaTrack => ({
  producerId: 'p2',
  callId: 'call1',
  sessionId: 's2',
  userId: 'u2',
  kind: 'audio',
  type: 'voice',
  clientTrackId: 'cid-2',
  streamId: 'stream-2',
  mid: '0',
  paused: false,
  ...over,
});

const view = (cid: string, source: TrackSource): TrackView => ({
  sid: LiveKitIds.track('s1', cid),
  cid,
  type: source === TrackSource.MICROPHONE ? TrackType.AUDIO : TrackType.VIDEO,
  source,
  name: '',
  muted: false,
  width: 0,
  height: 0,
  stream: '',
});

/** The events a binding emitted, in order, by name. */
function recorder(): { events: LiveKitMediaEvents; log: [string, unknown][] } {
  const log: [string, unknown][] = [];
  const rec =
    (name: string) =>
    (...args: unknown[]) =>
      log.push([name, args.length === 1 ? args[0] : args]);
  return {
    log,
    events: {
      subscriberOffer: rec('subscriberOffer'),
      offering: rec('offering'),
      candidate: rec('candidate'),
      trackPublished: rec('trackPublished'),
      trackUnpublished: rec('trackUnpublished'),
      data: rec('data'),
      closed: rec('closed'),
    },
  };
}

describe('LiveKitMediaBinding (a LiveKit participant on the media port)', () => {
  let media: FakeMediaPlane;
  let binding: LiveKitMediaBinding;
  let log: [string, unknown][];
  let forgotten = 0;

  beforeEach(async () => {
    media = new FakeMediaPlane();
    const r = recorder();
    log = r.log;
    forgotten = 0;
    binding = new LiveKitMediaBinding(REF, r.events, media, Promise.resolve(), () => forgotten++);
    await binding.subscriberReady;
  });

  it('opens its subscriber as a subscribe-only session of the participant, named PA_|TR_', () => {
    const [open] = media.callsOf('openSession');
    expect(open.ref).toEqual({ callId: 'call1', sessionId: 's1:sub', userId: 'u1' });
    expect(open.options).toMatchObject({ direction: 'subscribe', ownerSessionId: 's1' });
    const sid = LiveKitIds.track('s2', 'cid-2');
    expect(open.options?.consumerLabel?.(track())).toEqual({
      streamId: `PA_s2|${sid}`,
      trackId: sid,
    });
  });

  it("answers a publisher offer with the offer's id, its candidates after the answer", async () => {
    media.onDescription = (sessionId) => {
      binding.signal('publisher', { type: 'answer', sdp: 'v=0 answer' });
      binding.signal('publisher', {
        type: 'candidate',
        candidate: {
          candidate: 'candidate:1 1 udp 1 127.0.0.1 4000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      });
      expect(sessionId).toBe('s1');
    };

    const answer = await binding.handlePublisherOffer(
      new SessionDescription({ type: 'offer', sdp: 'v=0 offer', id: 7 }),
    );

    expect(answer).toMatchObject({ type: 'answer', sdp: 'v=0 answer', id: 7 });
    expect(media.callsOf('handleDescription')[0].description).toEqual({
      type: 'offer',
      sdp: 'v=0 offer',
    });
    expect(log).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual([
      ['candidate', [SignalTarget.PUBLISHER, expect.stringContaining('"sdpMid":"0"')]],
    ]);
  });

  it('fails a publisher offer the media port did not answer', async () => {
    await expect(
      binding.handlePublisherOffer(new SessionDescription({ type: 'offer', sdp: 'x', id: 1 })),
    ).rejects.toThrow('not answered');
  });

  it('numbers subscriber offers, maps their mids to track ids, shows their tracks first', async () => {
    const theirs = track();
    media.tracks.push(theirs);
    binding.offering([{ mid: 's1', producerId: 'p2' }]);
    binding.signal('subscriber', { type: 'offer', sdp: 'v=0 sub' });
    binding.signal('subscriber', {
      type: 'candidate',
      candidate: { candidate: 'candidate:1', sdpMid: 's1', sdpMLineIndex: 0 },
    });

    expect(log.map(([name]) => name)).toEqual(['offering', 'subscriberOffer', 'candidate']);
    expect(log[0][1]).toEqual([theirs]);
    expect(log[1][1]).toMatchObject({
      type: 'offer',
      sdp: 'v=0 sub',
      id: 1,
      midToTrackId: { s1: LiveKitIds.track('s2', 'cid-2') },
    });
    expect((log[2][1] as unknown[])[0]).toBe(SignalTarget.SUBSCRIBER);

    // The answer to an older offer is stale; the current one goes to the subscriber session.
    binding.signal('subscriber', { type: 'offer', sdp: 'v=0 sub 2' });
    await binding.handleSubscriberAnswer(
      new SessionDescription({ type: 'answer', sdp: 'a', id: 1 }),
    );
    await binding.handleSubscriberAnswer(
      new SessionDescription({ type: 'answer', sdp: 'b', id: 2 }),
    );
    expect(media.callsOf('handleDescription')).toEqual([
      {
        method: 'handleDescription',
        sessionId: 's1:sub',
        description: { type: 'answer', sdp: 'b' },
      },
    ]);
  });

  it('routes trickled candidates by target; the empty end-of-candidates changes nothing', async () => {
    const c = JSON.stringify({ candidate: 'candidate:9 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0' });
    await binding.addCandidate(SignalTarget.PUBLISHER, c, false);
    await binding.addCandidate(SignalTarget.SUBSCRIBER, c, false);
    await binding.addCandidate(SignalTarget.PUBLISHER, JSON.stringify({ candidate: '' }), true);
    expect(media.callsOf('addIceCandidate').map((x) => x.sessionId)).toEqual(['s1', 's1:sub']);
  });

  it('refuses a candidate that is not JSON as a client error (invalid_message), not an internal one', async () => {
    const refused = binding.addCandidate(SignalTarget.PUBLISHER, '{nope', false);
    await expect(refused).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(refused).rejects.toMatchObject({
      code: 'invalid_message',
      field: 'candidateInit',
    });
    expect(media.callsOf('addIceCandidate')).toEqual([]);
  });

  it('publishes an announced track when its media arrives, and unpublishes it when it ends', async () => {
    const screen = view('cid-screen', TrackSource.SCREEN_SHARE);
    const info = await binding.addTrack(new AddTrackRequest({ cid: 'cid-screen' }), screen);
    expect(info).toMatchObject({ sid: screen.sid, source: TrackSource.SCREEN_SHARE });

    binding.trackAdded(track({ sessionId: 's1', clientTrackId: 'cid-screen', producerId: 'p1' }));
    binding.trackRemoved('p1');
    binding.trackRemoved('p1');

    expect(log).toEqual([
      ['trackPublished', screen],
      ['trackUnpublished', screen.sid],
    ]);
  });

  it('forwards no media its client did not announce', () => {
    binding.trackAdded(track({ sessionId: 's1', clientTrackId: 'unannounced', producerId: 'p9' }));
    expect(log).toEqual([]);
    expect(media.callsOf('setTrackPaused')).toEqual([
      { method: 'setTrackPaused', sessionId: 's1', track: 'p9', paused: true },
    ]);
  });

  it('opens no subscriber without the canSubscribe grant', async () => {
    const quiet = new FakeMediaPlane();
    const ref = { ...REF, grants: { ...REF.grants, canSubscribe: false } };
    const b = new LiveKitMediaBinding(ref, recorder().events, quiet, Promise.resolve(), () => 0);
    await b.subscriberReady;
    await b.addCandidate(
      SignalTarget.SUBSCRIBER,
      JSON.stringify({ candidate: 'candidate:1' }),
      false,
    );
    await b.handleSubscriberAnswer(new SessionDescription({ type: 'answer', sdp: 'a', id: 1 }));
    await b.close();
    expect(quiet.calls).toEqual([]);
  });

  it("pauses a non-microphone track by its client id; the microphone is the core's mute", async () => {
    const mic = view('cid-mic', TrackSource.MICROPHONE);
    const screen = view('cid-screen', TrackSource.SCREEN_SHARE);
    await binding.addTrack(new AddTrackRequest({ cid: mic.cid }), mic);
    await binding.addTrack(new AddTrackRequest({ cid: screen.cid }), screen);

    await binding.setTrackMuted(mic.sid, true);
    await binding.setTrackMuted(screen.sid, true);

    expect(media.callsOf('setTrackPaused')).toEqual([
      { method: 'setTrackPaused', sessionId: 's1', track: 'cid-screen', paused: true },
    ]);
  });

  it('closes its subscriber once, then ignores the media port', async () => {
    await Promise.all([binding.close(), binding.close()]);
    binding.signal('subscriber', { type: 'offer', sdp: 'late' });
    binding.data('_reliable', new Uint8Array([1]));
    binding.failed('dtls-failed');

    expect(media.callsOf('closeSession')).toEqual([
      { method: 'closeSession', sessionId: 's1:sub' },
    ]);
    expect(forgotten).toBe(1);
    expect(log).toEqual([]);
    expect(binding.sendData('_reliable', new Uint8Array([1]))).toBe(false);
  });

  it('reports data and a media failure while open', () => {
    binding.data('_reliable', new Uint8Array([1, 2]));
    binding.failed('dtls-failed');
    expect(log).toEqual([
      ['data', ['_reliable', new Uint8Array([1, 2])]],
      ['closed', 'dtls-failed'],
    ]);
  });
});
