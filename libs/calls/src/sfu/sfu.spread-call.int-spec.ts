import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessPipes } from '../testing/in-process-pipes';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';
import { RoomPipesFactory } from './pipe/room-pipes-factory.interface';

jest.setTimeout(90_000);

const TONES = [330, 440, 550, 660, 770];

/** A test peer sending a tone. */
type Person = { p: HarnessPeer; hz: number };

function hears(p: HarnessPeer, hz: number): boolean {
  return p.peer.heardTones(TONES, 0.2).some((t) => t.frequencyHz === hz && t.power > 0.005);
}

/** What a peer hears now, for a failure's message. */
function heard(h: SfuHarness, p: HarnessPeer): string {
  const tones = p.peer
    .heardTones(TONES, 0.2)
    .map((t) => `${t.mid}:${t.frequencyHz}Hz/${t.power.toFixed(3)}`);
  const pid = h.sfu.sessionWorkerPid(p.ref.sessionId);
  return `${p.ref.userId} [${p.peer.pc.connectionState}, worker ${pid}] hears ${tones.join(' ') || 'nothing'}`;
}

/** Waits until each peer hears the tones of all the others. */
async function allHear(h: SfuHarness, people: Person[], what: string): Promise<void> {
  try {
    await Promise.all(
      people.map(({ p, hz }) =>
        p.peer.waitFor(
          () => people.every((o) => o.hz === hz || hears(p, o.hz)),
          20_000,
          `${what}: ${p.ref.userId} hearing the others`,
        ),
      ),
    );
  } catch (err) {
    const state = people.map(({ p }) => heard(h, p)).join('; ');
    throw new Error(`${(err as Error).message}\n${state}\nstats ${JSON.stringify(h.sfu.stats())}`);
  }
}

/** Closes the calls a case opened (even when it failed) and waits until `workers` run again. */
async function cleanUp(h: SfuHarness, calls: string[], workers: number): Promise<void> {
  for (const callId of calls.splice(0)) await h.sfu.closeCall(callId);
  const deadline = Date.now() + 10_000;
  while (h.sfu.workerPids().length < workers && Date.now() < deadline) await sleep(25);
}

/** Five people with a tone each in a new call (noted in `calls`), once they all hear each other. */
async function spreadCall(
  h: SfuHarness,
  calls: string[],
): Promise<{ callId: string; people: Person[] }> {
  const callId = `call-${randomUUID()}`;
  calls.push(callId);
  const people: Person[] = [];
  for (const [i, hz] of TONES.entries()) {
    const p = await h.join(callId, { name: `p${i}` }, (peer) => peer.addTone(hz));
    people.push({ p, hz });
  }
  await allHear(h, people, 'spread');
  return { callId, people };
}

/** Waits until the call's sessions, producers and consumers are what five people have. */
async function settled(h: SfuHarness, people: Person[]): Promise<void> {
  // Everyone hears everyone already; under CPU contention a recovery can still be re-consuming
  // for a moment.
  const done = () => {
    const { transports, producers, consumers } = h.sfu.stats();
    return transports === 5 && producers === 5 && consumers === 20;
  };
  await people[0].p.peer.waitFor(done, 10_000, 'the moved sessions settled');
  expect(h.sfu.stats()).toMatchObject({ transports: 5, producers: 5, consumers: 20 });
}

/**
 * Kills a worker, waits until everyone hears everyone again (nobody's session closed), then
 * until `workers` run again.
 */
async function kill(
  h: SfuHarness,
  pid: number,
  which: string,
  people: Person[],
  workers: number,
): Promise<void> {
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await sleep(50);
  for (const { p } of people) p.peer.resetAudio();
  await allHear(h, people, `after the ${which} worker died`);
  console.log(
    `[spread-call] ${which} worker killed: everyone heard everyone again after ${Date.now() - killedAt} ms`,
  );
  expect(h.closed).toEqual([]);
  await people[0].p.peer.waitFor(
    () => h.sfu.workerPids().length === workers,
    10_000,
    'replacement worker',
  );
}

/**
 * One call spread over the instance's workers: with two sessions per router, five sessions use
 * both workers (routers piped together). Everyone hears everyone across the routers, voice
 * activity of a session on the second router is reported, a pause stops its voice everywhere,
 * the sessions of a router whose worker dies move and are heard again (the second router's, then
 * the primary's; the primary's while the call is spread, its surviving router made the primary),
 * and the extra router closes when its last session leaves.
 */
describe('SfuService: one call on every worker', () => {
  let h: SfuHarness;
  /** Calls a case opened: closed after it even when it failed, so the next starts clean. */
  const calls: string[] = [];

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 2, maxSessionsPerRouter: 2 });
  });

  afterEach(() => cleanUp(h, calls, 2));

  afterAll(async () => {
    await h.close();
  });

  it('spreads the sessions, forwards across routers, survives the death of either worker', async () => {
    const { callId, people } = await spreadCall(h, calls);
    const pids = h.sfu.callWorkerPids(callId);
    expect(pids).toHaveLength(2);
    const where = people.map(({ p }) => h.sfu.sessionWorkerPid(p.ref.sessionId));
    // Two on the primary, then the second router (every worker used), then the fewest.
    expect(where.slice(0, 2)).toEqual([pids[0], pids[0]]);
    expect(where[2]).toBe(pids[1]);
    expect(new Set(where)).toEqual(new Set(pids));
    expect(h.sfu.stats()).toMatchObject({ routers: 2, transports: 5, producers: 5, consumers: 20 });

    // Voice of a session on the second router is reported (watched on the primary).
    const second = people[2];
    await second.p.peer.waitFor(
      () => h.voice.some((v) => v.ref.sessionId === second.p.ref.sessionId && v.speaking),
      10_000,
      'voice of a session on the second router',
    );
    // Muted there: nobody hears it anymore, on either router.
    await h.sfu.setAudioMuted(second.p.ref.sessionId, true);
    await sleep(300);
    for (const { p } of people) p.peer.resetAudio();
    await sleep(1500);
    for (const { p } of people) if (p !== second.p) expect(hears(p, second.hz)).toBe(false);
    await h.sfu.setAudioMuted(second.p.ref.sessionId, false);
    await allHear(h, people, 'unmuted');

    // The second router's worker dies: its sessions move; then the primary's.
    await kill(h, pids[1], 'second', people, 2);
    // The moved sessions did not crowd the primary: they went to the dead worker's replacement.
    expect(h.sfu.callWorkerPids(callId)).toHaveLength(2);
    await kill(h, pids[0], 'primary', people, 2);
    await settled(h, people);

    await h.sfu.closeCall(callId);
    people.forEach(({ p }) => p.peer.close());
    expect(h.sfu.stats()).toMatchObject({ routers: 0, transports: 0, consumers: 0 });
  });

  it("makes the surviving router the primary when the primary's worker dies", async () => {
    const { callId, people } = await spreadCall(h, calls);
    const [primary, second] = h.sfu.callWorkerPids(callId);
    const stayed = people.filter(({ p }) => h.sfu.sessionWorkerPid(p.ref.sessionId) === second);
    expect(stayed.length).toBeGreaterThan(0);
    const ufrag = (sdp: string | undefined) => sdp && /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
    const offersBefore = stayed.map(({ p }) => h.descriptions(p, 'offer'));

    await kill(h, primary, 'primary (spread call)', people, 2);
    // The survivor holds the call now; its sessions kept their transports (no move), and no
    // worker holds two routers of the call.
    const pids = h.sfu.callWorkerPids(callId);
    expect(pids[0]).toBe(second);
    expect(new Set(pids).size).toBe(pids.length);
    for (const { p } of stayed) expect(h.sfu.sessionWorkerPid(p.ref.sessionId)).toBe(second);
    stayed.forEach(({ p }, i) => {
      // Offers of the moved sessions' tracks after the death, never new ICE credentials.
      const before = offersBefore[i];
      const after = h.descriptions(p, 'offer').slice(before.length);
      for (const sdp of after) expect(ufrag(sdp)).toBe(ufrag(before[before.length - 1]));
    });
    await settled(h, people);
    // The voice of the survivor's sessions is watched on it again.
    const voiceFrom = h.voice.length;
    await h.sfu.setAudioMuted(stayed[0].p.ref.sessionId, true);
    await h.sfu.setAudioMuted(stayed[0].p.ref.sessionId, false);
    await stayed[0].p.peer.waitFor(
      () =>
        h.voice
          .slice(voiceFrom)
          .some((v) => v.ref.sessionId === stayed[0].p.ref.sessionId && v.speaking),
      10_000,
      'voice of a session on the new primary',
    );
  });

  it('closes an extra router once its last session left', async () => {
    const callId = `call-${randomUUID()}`;
    calls.push(callId);
    const a = await h.join(callId, { name: 'a' }, (peer) => peer.addTone(330));
    const b = await h.join(callId, { name: 'b' }, (peer) => peer.addTone(440));
    const c = await h.join(callId, { name: 'c' }, (peer) => peer.addTone(550));
    await allHear(
      h,
      [
        { p: a, hz: 330 },
        { p: b, hz: 440 },
        { p: c, hz: 550 },
      ],
      'three',
    );
    const [primary, extra] = h.sfu.callWorkerPids(callId);
    expect(h.sfu.sessionWorkerPid(c.ref.sessionId)).toBe(extra);
    expect(h.sfu.stats().routers).toBe(2);

    await h.sfu.closeSession(c.ref.sessionId);
    c.peer.close();

    expect(h.sfu.callWorkerPids(callId)).toEqual([primary]);
    // The others' consumers of its voice close as the worker reports it.
    await a.peer.waitFor(() => h.sfu.stats().consumers === 2, 5000, 'consumers of c closed');
    expect(h.sfu.stats()).toMatchObject({ routers: 1, transports: 2, consumers: 2 });
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });
});

/**
 * Worker deaths one after the other in a call over three workers (two sessions per router), each
 * time a worker the call uses, in turn: whatever the placement the previous recoveries left
 * (a survivor made the primary, sessions moved to the survivors or a new router), everyone hears
 * everyone again, no session closes, the moved sessions spread over the dead worker's replacement
 * and no worker holds two routers of the call.
 */
describe('SfuService: one call on every worker, its workers dying one after another', () => {
  let h: SfuHarness;
  const calls: string[] = [];

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 3, maxSessionsPerRouter: 2 });
  });

  afterEach(() => cleanUp(h, calls, 3));

  afterAll(async () => {
    await h.close();
  });

  it('survives eight worker deaths in a row', async () => {
    const { callId, people } = await spreadCall(h, calls);
    for (let round = 0; round < 8; round++) {
      const pids = h.sfu.callWorkerPids(callId);
      expect(new Set(pids).size).toBe(pids.length);
      await kill(h, pids[round % pids.length], `round ${round}'s`, people, 3);
      // The moved sessions spread over the replacement again (five need three routers).
      expect(h.sfu.callWorkerPids(callId)).toHaveLength(3);
    }
    expect(new Set(h.sfu.callWorkerPids(callId)).size).toBe(h.sfu.callWorkerPids(callId).length);
    await settled(h, people);
  });
});

/**
 * A call spread over two workers of instance A with a participant on instance B (pipes between
 * the instances' primary routers): when A's primary worker dies, its surviving router becomes the
 * primary and takes over the pipes, and everyone on both instances hears everyone again; then
 * again when that one's worker dies.
 */
describe('SfuService: one call on every worker and on another instance', () => {
  const pipes = new InProcessPipes();
  let a: SfuHarness;
  let b: SfuHarness;
  const calls: string[] = [];

  beforeAll(async () => {
    const instance = (id: string) => [{ provide: RoomPipesFactory, useValue: pipes.factory(id) }];
    a = await SfuHarness.start({ rtcWorkers: 2, maxSessionsPerRouter: 2 }, instance('A'));
    b = await SfuHarness.start({}, instance('B'));
  });

  afterEach(async () => {
    const ids = [...calls];
    await cleanUp(a, calls, 2);
    for (const callId of ids) await b.sfu.closeCall(callId);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("survives the death of the primary's worker twice, heard across the instances", async () => {
    const callId = `call-${randomUUID()}`;
    calls.push(callId);
    const people: Person[] = [];
    for (const [i, hz] of TONES.slice(0, 4).entries()) {
      const p = await a.join(callId, { name: `a${i}` }, (peer) => peer.addTone(hz));
      people.push({ p, hz });
    }
    const onB = await b.join(callId, { name: 'b0' }, (peer) => peer.addTone(TONES[4]));
    people.push({ p: onB, hz: TONES[4] });
    await allHear(a, people, 'spread over two workers and two instances');
    expect(a.sfu.callWorkerPids(callId)).toHaveLength(2);

    for (const round of ['first', 'second']) {
      const [primary, survivor] = a.sfu.callWorkerPids(callId);
      await kill(a, primary, `primary (${round}, with a pipe to B)`, people, 2);
      expect(a.sfu.callWorkerPids(callId)[0]).toBe(survivor);
      expect(b.closed).toEqual([]);
    }
  });
});

/**
 * A burst of sessions opening at once (a meeting starting) while the call opens its next router:
 * those that waited for the new router take its free seats, and the rest open the next router
 * instead of all crowding into the one that was opening.
 */
describe('SfuService: one call on every worker, sessions opening at once', () => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: 3, maxSessionsPerRouter: 2 });
  });

  afterAll(async () => {
    await h.close();
  });

  it('fills each router up to the limit before the next, then the fewest', async () => {
    const callId = `call-${randomUUID()}`;
    const refs = Array.from({ length: 8 }, (_, i) => ({
      callId,
      sessionId: `burst-${i}-${randomUUID().slice(0, 8)}`,
      userId: `burst-${i}`,
    }));
    await Promise.all(refs.map((ref) => h.sfu.openSession(ref)));

    const pids = h.sfu.callWorkerPids(callId);
    expect(pids).toHaveLength(3);
    const perRouter = pids.map(
      (pid) => refs.filter((r) => h.sfu.sessionWorkerPid(r.sessionId) === pid).length,
    );
    // 2 + 2 + 2 up to the limit, then the two left over on the fewest: 3 / 3 / 2.
    expect(perRouter).toEqual([3, 3, 2]);
    await h.sfu.closeCall(callId);
  });
});
