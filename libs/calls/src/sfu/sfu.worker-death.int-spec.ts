import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HarnessPeer, SfuHarness } from '../testing/sfu-harness';

jest.setTimeout(60_000);

const ALL = [440, 660, 880];

function hears(p: HarnessPeer, hz: number): boolean {
  return p.peer.heardTones(ALL, 0.2).some((t) => t.frequencyHz === hz && t.power > 0.005);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A mediasoup worker killed with SIGKILL: the pool replaces it, the process keeps running, and
 * the call moves to a new router; every session renegotiates (a server offer with the new
 * transport's ICE and DTLS parameters) and media flows again.
 */
describe.each([
  { workers: 2, what: 'another worker is running' },
  { workers: 1, what: 'it was the only worker' },
])('SfuService when a worker dies ($what)', ({ workers }) => {
  let h: SfuHarness;

  beforeAll(async () => {
    h = await SfuHarness.start({ rtcWorkers: workers });
  });

  afterAll(async () => {
    await h.close();
  });

  it('replaces the worker, moves the call and restores media in both directions', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await a.peer.waitFor(() => hears(a, 660), 15_000, 'a hears b');
    await b.peer.waitFor(() => hears(b, 440), 15_000, 'b hears a');
    const pid = h.sfu.callWorkerPid(callId) ?? 0;
    const pidsBefore = h.sfu.workerPids();
    const offersBefore = h.descriptions(a, 'offer').length;

    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await sleep(50); // let packets already decoded drain out of the sinks
    a.peer.resetAudio();
    b.peer.resetAudio();
    await a.peer.waitFor(() => hears(a, 660), 20_000, 'a hears b again');
    await b.peer.waitFor(() => hears(b, 440), 20_000, 'b hears a again');
    const recoveredMs = Date.now() - killedAt;

    // The dead worker is gone and replaced; the call runs on a live worker.
    expect(alive(pid)).toBe(false);
    await a.peer.waitFor(() => h.sfu.workerPids().length === workers, 10_000, 'replacement worker');
    expect(h.sfu.workerPids()).not.toContain(pid);
    expect(h.sfu.workerPids()).toHaveLength(pidsBefore.length);
    expect(h.sfu.callWorkerPid(callId)).not.toBe(pid);
    // Renegotiated, not rejoined: same sessions, a server offer each, same track mids.
    expect(h.closed).toEqual([]);
    expect(h.descriptions(a, 'offer').length).toBeGreaterThan(offersBefore);
    expect(a.peer.receiving('audio')).toHaveLength(1);
    // The data channel works on the new transport too.
    expect((await a.peer.dataChannelRoundTrip('ping')).reply).toBe('pong');
    // New sessions join the moved call normally.
    const c = await h.join(callId, { name: 'c' }, (p) => p.addTone(880));
    await c.peer.waitFor(() => hears(c, 440) && hears(c, 660), 15_000, 'newcomer hears both');
    console.log(
      `[worker-death] workers=${workers}: media heard again ${recoveredMs} ms after SIGKILL`,
    );
    expect(h.sfu.stats()).toMatchObject({
      workers,
      routers: 1,
      transports: 3,
      producers: 3,
      consumers: 6,
    });
    await h.sfu.closeCall(callId);
    [a, b, c].forEach(({ peer }) => peer.close());
  });

  it('opens a session whose router dies while it is being opened where the call moves', async () => {
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const pid = h.sfu.callWorkerPid(callId) ?? 0;
    // The worker dies with the session's transport being created on it.
    const joining = h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    process.kill(pid, 'SIGKILL');
    const b = await joining;
    expect(h.sfu.sessionWorkerPid(b.ref.sessionId)).not.toBe(pid);
    await a.peer.waitFor(() => hears(a, 660), 20_000, 'a hears b');
    await b.peer.waitFor(() => hears(b, 440), 20_000, 'b hears a');
    expect(h.closed).toEqual([]);
    await a.peer.waitFor(() => h.sfu.workerPids().length === workers, 10_000, 'replacement worker');
    await h.sfu.closeCall(callId);
    [a, b].forEach(({ peer }) => peer.close());
  });
});
