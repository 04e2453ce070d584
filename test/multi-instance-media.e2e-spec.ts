import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TestRedisServer, type WrtcTestPeer } from '@app/calls/testing';
import { gatewayPeer } from './support/gateway-peer';
import type { TestClient } from './support/host-app';
import { HostProcess } from './support/host-process';
import { TcpProxy } from './support/tcp-proxy';
import { instanceEnv } from './support/instance-env';

/** One tone per participant, far enough apart for per-track detection. */
const TONES = [330, 440, 550, 660, 770, 880];

const channel = () => `media-${randomBytes(4).toString('hex')}`;

/** The entries of the socket.io adapter's stream in the deployment's Redis, each as one text. */
async function socketIoStream(redisUrl: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    const [key] = await redis.keys('*socket.io');
    const entries = key ? await redis.xrange(key, '-', '+') : [];
    return entries.map(([, fields]) => fields.join(' '));
  } finally {
    redis.disconnect();
  }
}

interface Participant {
  readonly name: string;
  readonly host: HostProcess;
  readonly client: TestClient;
  readonly peer: WrtcTestPeer;
  readonly tone: number;
}

/**
 * Media across instances: three host-app processes on one Redis, real WebRTC participants
 * (@roamhq/wrtc) through the gateway, media piped between the instances' mediasoup routers.
 */
describe('many instances, one call: media', () => {
  let redis: TestRedisServer;
  let hosts: HostProcess[] = [];
  const clients: TestClient[] = [];
  const peers: WrtcTestPeer[] = [];

  const env = (i: number): Record<string, string> =>
    instanceEnv(redis.url, `media-${i}`, { DEMO_AUTH_SECRET: 'multi-instance-media-secret' });

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    hosts = await Promise.all([1, 2, 3].map((i) => HostProcess.start(`media-${i}`, env(i))));
  }, 120_000);

  afterEach(async () => {
    peers.splice(0).forEach((p) => p.close());
    await Promise.all(
      clients.splice(0).map(async (c) => {
        if (c.socket.connected) await c.send('leave').catch(() => undefined);
        c.close();
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    await redis.stop();
  });

  async function participant(
    host: HostProcess,
    name: string,
    ch: string,
    tone: number,
  ): Promise<Participant> {
    const { token } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const peer = await gatewayPeer(client, name);
    peers.push(peer);
    peer.addTone(tone);
    await client.send('unmute');
    return { name, host, client, peer, tone };
  }

  /** Tones a participant hears clearly now: one per receiving track, sorted. */
  function heard(p: Participant): number[] {
    return p.peer
      .heardTones(TONES, 0.5)
      .filter((h) => h.share > 0.8 && h.power > 0.001)
      .map((h) => h.frequencyHz)
      .sort((a, b) => a - b);
  }

  function tonesOf(people: Participant[], except?: Participant): number[] {
    return people
      .filter((p) => p !== except)
      .map((p) => p.tone)
      .sort((a, b) => a - b);
  }

  /** Waits until `p` hears exactly `expected` (one track each); returns how long it took. */
  async function hears(p: Participant, expected: number[], timeoutMs = 45_000): Promise<number> {
    const started = Date.now();
    try {
      await p.peer.waitFor(
        () => JSON.stringify(heard(p)) === JSON.stringify(expected),
        timeoutMs,
        `${p.name} hearing ${expected.join(', ')} Hz`,
      );
    } catch (err) {
      const tracks = p.peer
        .heardTones(TONES, 0.5)
        .map((h) => ({ ...h, power: h.power.toFixed(4) }));
      throw new Error(`${(err as Error).message}; hears ${JSON.stringify(tracks)}`);
    }
    return Date.now() - started;
  }

  /** Everyone in `people` hears everyone else in it; returns the slowest wait (ms). */
  async function allHearEachOther(people: Participant[], timeoutMs?: number): Promise<number> {
    const took = await Promise.all(people.map((p) => hears(p, tonesOf(people, p), timeoutMs)));
    for (const p of people) expect(p.peer.errors).toEqual([]);
    return Math.max(...took);
  }

  /** `calls_sfu_objects` of one instance, by kind. */
  async function sfuObjects(host: HostProcess): Promise<Record<string, number>> {
    const res = await host.http.get('/metrics').expect(200);
    const objects: Record<string, number> = {};
    for (const m of res.text.matchAll(/^calls_sfu_objects\{kind="(\w+)"\} (\d+)$/gm)) {
      objects[m[1]] = Number(m[2]);
    }
    return objects;
  }

  /** Waits until the instance's mediasoup objects match; fails showing the last counts. */
  async function objectsReach(
    host: HostProcess,
    expected: Record<string, number>,
    timeoutMs = 15_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = await sfuObjects(host);
    const matches = () => Object.entries(expected).every(([k, v]) => last[k] === v);
    while (!matches() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      last = await sfuObjects(host);
    }
    expect({ instance: host.name, ...last }).toMatchObject({ instance: host.name, ...expected });
  }

  it('2 + 2 + 2 participants on three instances: each hears the other five, one call state, signals only to their session', async () => {
    const ch = channel();
    const people: Participant[] = [];
    for (const [i, host] of hosts.entries()) {
      for (const j of [0, 1]) {
        people.push(await participant(host, `Tone${i + 1}${'ab'[j]}`, ch, TONES[i * 2 + j]));
      }
    }
    const lastJoinAt = Date.now();
    await Promise.all(people.map((p) => p.peer.waitConnected(20_000)));
    await allHearEachOther(people, 60_000);
    const allHeardMs = Date.now() - lastJoinAt;

    // One call state everywhere; events of later joiners reached everyone, whatever instance.
    const sessionIds = people.map((p) => p.client.connectionId).sort();
    for (const host of hosts) expect(await host.sessionIds(ch)).toEqual(sessionIds);
    for (const [i, p] of people.entries()) {
      for (const later of people.slice(i + 1)) {
        await p.client.waitFor(
          'user_joined',
          (e) => e.data.session_id === later.client.connectionId,
        );
      }
    }
    // Each instance: its two sessions, one pipe pair each way with each of the two others.
    for (const host of hosts) {
      await objectsReach(host, {
        routers: 1,
        transports: 2,
        producers: 2,
        consumers: 10,
        pipes: 4,
      });
    }
    // A signal for one session reaches only that session, across instances.
    for (const p of people) {
      const signals = p.client.received('signal');
      expect(signals.length).toBeGreaterThan(0);
      expect(signals.filter((s) => s.data.connID !== p.client.connectionId)).toEqual([]);
      const types = signals.map(
        (s) => (JSON.parse(s.data.data as string) as { type: string }).type,
      );
      expect(types).toEqual(expect.arrayContaining(['answer', 'offer']));
    }
    // Each signal went straight to its socket on the instance serving the session, none through
    // the socket.io stream that carries the broadcasts between instances (the joins did).
    const streamed = await socketIoStream(redis.url);
    expect(streamed.filter((e) => e.includes('user_joined')).length).toBeGreaterThan(0);
    expect(streamed.filter((e) => e.includes('calls_signal'))).toEqual([]);
    console.log(
      `2+2+2 on three instances: everyone heard the other five ${allHeardMs} ms after the last join`,
    );
  }, 150_000);

  it('pipes exist only while needed: when an instance has no participant left, its objects and the pipes to it are closed', async () => {
    // Nothing left from earlier tests.
    for (const host of hosts)
      await objectsReach(host, { routers: 0, transports: 0, pipes: 0 }, 30_000);
    const ch = channel();
    const a = await participant(hosts[0], 'PipeA', ch, 440);
    await a.peer.waitConnected(20_000);
    await objectsReach(hosts[0], { routers: 1, pipes: 0 }); // alone: no pipe
    const joinedAt = Date.now();
    const b = await participant(hosts[1], 'PipeB', ch, 660);
    await hears(a, [660]);
    const remoteHeardMs = Date.now() - joinedAt;
    await hears(b, [440]);
    const c = await participant(hosts[2], 'PipeC', ch, 880);
    const people = [a, b, c];
    await allHearEachOther(people);
    for (const host of hosts) {
      await objectsReach(host, { routers: 1, transports: 1, producers: 1, consumers: 2, pipes: 4 });
    }

    // Mute pauses the producer; the other instances' copies stop, unmute brings them back.
    await a.client.send('mute');
    await sleep(500);
    b.peer.resetAudio();
    c.peer.resetAudio();
    await sleep(1500);
    for (const p of [b, c]) {
      expect(p.peer.heardTones(TONES, 0.5).filter((h) => h.power > 0.001)).toHaveLength(1);
      expect(heard(p)).not.toContain(440);
    }
    await a.client.send('unmute');
    await allHearEachOther(people);

    // Video through the pipes too (keyframe requests cross them): a camera, turned on.
    const { streamId } = a.peer.addVideo();
    const videoOn = await a.client.send('video_on', {
      data: JSON.stringify({ videoStreamID: streamId }),
    });
    expect(videoOn).toMatchObject({ ok: true });
    for (const p of [b, c]) {
      await p.peer.waitFor(
        () => p.peer.videoFrames().some((v) => v.frames >= 10),
        30_000,
        `${p.name} decoding video from another instance`,
      );
    }

    // Instance 2's only participant leaves: everything of the call there closes, and the two
    // others close their pipes to it (the pipes between 1 and 3 stay).
    b.peer.close();
    expect(await b.client.send('leave')).toMatchObject({ ok: true });
    const leftAt = Date.now();
    await objectsReach(hosts[1], {
      routers: 0,
      transports: 0,
      producers: 0,
      consumers: 0,
      pipes: 0,
    });
    await objectsReach(hosts[0], { routers: 1, producers: 2, consumers: 1, pipes: 2 });
    await objectsReach(hosts[2], { routers: 1, producers: 1, consumers: 2, pipes: 2 });
    const closedMs = Date.now() - leftAt;
    a.peer.resetAudio();
    c.peer.resetAudio();
    await allHearEachOther([a, c]);
    console.log(
      `a participant heard through a pipe ${remoteHeardMs} ms after joining another instance; pipes closed ${closedMs} ms after the leave`,
    );
  }, 150_000);

  it('a media worker dies on one instance: the call moves to a new router there, the pipes are rebuilt, everyone hears everyone again', async () => {
    for (const host of hosts) await objectsReach(host, { routers: 0, pipes: 0 }, 30_000);
    const ch = channel();
    const people = [
      await participant(hosts[0], 'WorkerA', ch, 330),
      await participant(hosts[1], 'WorkerB1', ch, 550),
      await participant(hosts[1], 'WorkerB2', ch, 660),
      await participant(hosts[2], 'WorkerC', ch, 880),
    ];
    await Promise.all(people.map((p) => p.peer.waitConnected(20_000)));
    await allHearEachOther(people);
    const health = await hosts[1].http.get('/health');
    const [pid] = (health.body as { details: { calls_media: { pids: number[] } } }).details
      .calls_media.pids;
    expect(pid).toBeGreaterThan(0);

    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const moved = () => hosts[1].output.find((l) => l.includes('pipes reset after a router move'));
    while (!moved() && Date.now() - killedAt < 20_000) await sleep(50);
    expect(moved()).toBeDefined();
    const pipesResetMs = Date.now() - killedAt;
    // Long enough for the receivers' loss concealment of the old streams to have faded.
    await sleep(1500);
    for (const p of people) p.peer.resetAudio();
    await allHearEachOther(people, 60_000);
    const recoveredMs = Date.now() - killedAt;
    // The pipes were rebuilt on the new router, none left over on either side.
    await objectsReach(hosts[1], { workers: 1, routers: 1, transports: 2, producers: 2, pipes: 4 });
    await objectsReach(hosts[0], { routers: 1, pipes: 4 });
    await objectsReach(hosts[2], { routers: 1, pipes: 4 });
    console.log(
      `worker death on one instance: call moved and pipes reset after ${pipesResetMs} ms, everyone hears everyone (fresh audio, after a 1.5 s guard) ${recoveredMs} ms after the kill`,
    );
  }, 150_000);

  it('a producer announcement lost while an instance was cut off from Redis is repaired by pipe reconciliation', async () => {
    // A fourth instance that reaches Redis through a proxy that can cut it off (a partition); its
    // instance key outlives the cut, so the others do not take it for dead.
    const proxy = await TcpProxy.start(redis.port);
    const cutOff = await HostProcess.start('media-4', {
      ...env(4),
      RUSTCHAT_REDIS_URL: proxy.url,
      RUSTCHAT_CALLS_INSTANCE_TTL_MS: '20000',
    });
    try {
      const ch = channel();
      const ann = await participant(hosts[0], 'Ann', ch, TONES[0]);
      const ben = await participant(cutOff, 'Ben', ch, TONES[1]);
      await allHearEachOther([ann, ben], 60_000);

      proxy.cut();
      // Cat starts speaking on Ann's instance; its `pipe.producer` to the cut-off one is lost.
      const cat = await participant(hosts[0], 'Cat', ch, TONES[2]);
      await hears(ann, [TONES[1], TONES[2]]);
      proxy.restore();

      const tookMs = await hears(ben, [TONES[0], TONES[2]], 45_000);
      expect(cutOff.output.some((l) => l.includes('pipes repaired by reconciliation'))).toBe(true);
      expect(cat.peer.errors).toEqual([]);
      console.log(
        `lost producer announcement repaired: Ben hears Cat ${tookMs} ms after Redis came back`,
      );
      // Leave before the instance stops, so that no session of it waits for its key to expire.
      expect(await ben.client.send('leave')).toMatchObject({ ok: true });
    } finally {
      await cutOff.stop('SIGKILL');
      await proxy.close();
    }
  }, 120_000);

  it('SIGKILL of an instance: its sessions leave within 10 s, the others still hear each other, its participants rejoin elsewhere and are heard again', async () => {
    const ch = channel();
    const people: Participant[] = [];
    for (const [i, host] of hosts.entries()) {
      for (const j of [0, 1]) {
        people.push(await participant(host, `Kill${i + 1}${'ab'[j]}`, ch, TONES[i * 2 + j]));
      }
    }
    await Promise.all(people.map((p) => p.peer.waitConnected(20_000)));
    await allHearEachOther(people, 60_000);
    const survivors = people.slice(0, 4);
    const doomed = people.slice(4);

    const killedAt = Date.now();
    await hosts[2].stop('SIGKILL');
    for (const d of doomed) {
      for (const s of survivors) {
        await s.client.waitFor(
          'user_left',
          (e) => e.data.session_id === d.client.connectionId,
          10_000,
        );
      }
    }
    const leftMs = Date.now() - killedAt;
    expect(leftMs).toBeLessThan(10_000);
    expect(await hosts[0].sessionIds(ch)).toEqual(
      survivors.map((p) => p.client.connectionId).sort(),
    );
    // The dead instance's tracks are removed (its pipes closed); the survivors hear each other.
    for (const s of survivors) {
      await s.peer.waitFor(() => s.peer.receiving('audio').length === 3, 15_000, 'three tracks');
      s.peer.resetAudio();
    }
    await allHearEachOther(survivors);
    const survivorsOkMs = Date.now() - killedAt;
    for (const host of hosts.slice(0, 2)) {
      await objectsReach(host, { routers: 1, transports: 2, producers: 2, consumers: 6, pipes: 2 });
    }

    // The killed instance's participants come back through the survivors (new socket + join).
    for (const d of doomed) d.peer.close();
    const rejoinAt = Date.now();
    const back = [
      await participant(hosts[0], 'Kill3a', ch, doomed[0].tone),
      await participant(hosts[1], 'Kill3b', ch, doomed[1].tone),
    ];
    const everyone = [...survivors, ...back];
    for (const s of survivors) s.peer.resetAudio();
    await allHearEachOther(everyone, 60_000);
    const rejoinMs = Date.now() - rejoinAt;
    console.log(
      `SIGKILL: sessions removed after ${leftMs} ms, survivors hearing each other after ${survivorsOkMs} ms; rejoined participants hear and are heard ${rejoinMs} ms after rejoining`,
    );
  }, 180_000);
});
