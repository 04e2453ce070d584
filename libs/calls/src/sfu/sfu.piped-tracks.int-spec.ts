import { randomUUID } from 'node:crypto';
import type { MediaTrack } from '../media/media-plane.interface';
import { InProcessPipes } from '../testing/in-process-pipes';
import { SfuHarness } from '../testing/sfu-harness';
import { RoomPipesFactory } from './pipe/room-pipes-factory.interface';

jest.setTimeout(60_000);

describe('SfuService track events of piped producers (two instances)', () => {
  const bus = new InProcessPipes();
  let a: SfuHarness;
  let b: SfuHarness;
  const onB: { event: string; args: unknown[] }[] = [];

  beforeAll(async () => {
    a = await SfuHarness.start({}, [{ provide: RoomPipesFactory, useValue: bus.factory('A') }]);
    b = await SfuHarness.start({}, [{ provide: RoomPipesFactory, useValue: bus.factory('B') }]);
    b.listen({
      trackAdded: (...args) => onB.push({ event: 'added', args }),
      trackRemoved: (...args) => onB.push({ event: 'removed', args }),
      trackPaused: (...args) => onB.push({ event: 'paused', args }),
    });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('a track published on one instance is reported, paused and removed on the other', async () => {
    const callId = `call-${randomUUID()}`;
    // Bob's subscriber on B first (his room there), then Alice publishes on A.
    const bob = await b.join(callId, {
      name: 'bob-sub',
      userId: 'bob',
      dataChannel: false,
      session: { direction: 'subscribe', ownerSessionId: 'bob' },
    });
    let cid = '';
    const alice = await a.join(
      callId,
      { name: 'alice', sessionId: 'alice', dataChannel: false, session: { direction: 'publish' } },
      (p) => {
        cid = p.addTone(440).track?.id ?? '';
      },
    );
    await bob.peer.waitFor(
      () => bob.peer.heardTones([440], 0.5).some((t) => t.frequencyHz === 440),
      20_000,
      "alice's tone through the pipe",
    );
    const [local] = a.sfu.tracksOf(callId);
    const added = onB.find((e) => e.event === 'added' && e.args[0] === callId);
    expect(added?.args[1]).toEqual<MediaTrack>({ ...local, paused: false });
    expect(local).toMatchObject({ sessionId: 'alice', userId: 'alice', clientTrackId: cid });
    expect(b.sfu.tracksOf(callId)).toEqual([local]);

    await a.sfu.setTrackPaused('alice', cid, true);
    await bob.peer.waitFor(
      () => onB.some((e) => e.event === 'paused' && e.args[2] === true),
      5000,
      'the pause on B',
    );
    expect(onB).toContainEqual({ event: 'paused', args: [callId, local.producerId, true] });
    expect(b.sfu.tracksOf(callId)[0].paused).toBe(true);

    await a.leave(alice);
    await bob.peer.waitFor(() => onB.some((e) => e.event === 'removed'), 5000, 'the removal on B');
    expect(onB).toContainEqual({ event: 'removed', args: [callId, local.producerId] });
    expect(b.sfu.tracksOf(callId)).toEqual([]);
    await b.leave(bob);
  });
});
