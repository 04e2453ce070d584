import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  browserLikeWebRtc,
  loadStockRTCPeer,
  type StockRTCPeer,
  type WrtcTestPeer,
} from '@app/calls/testing';
import { SfuService } from '@app/calls';
import { gatewayPeer } from './support/gateway-peer';
import { TestHostApp, type TestClient } from './support/host-app';

const TONES = [440, 660, 990];

describe('real media through the gateway', () => {
  let host: TestHostApp;
  const clients: TestClient[] = [];
  const peers: { close(): void }[] = [];

  beforeAll(async () => {
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
    });
  });

  afterEach(() => {
    peers.splice(0).forEach((p) => p.close());
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await host.close();
  });

  async function participant(
    name: string,
    ch: string,
  ): Promise<{ client: TestClient; peer: WrtcTestPeer }> {
    const { token } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    const ack = await client.send<{ ok: boolean }>('join', { channelID: ch });
    expect(ack.ok).toBe(true);
    const peer = await gatewayPeer(client, name);
    peers.push(peer);
    return { client, peer };
  }

  it('three participants joined over socket.io hear each other (tone check)', async () => {
    const ch = `media-${randomBytes(4).toString('hex')}`;
    const people = [];
    for (const [i, name] of ['Ann', 'Ben', 'Cat'].entries()) {
      const p = await participant(name, ch);
      p.peer.addTone(TONES[i]);
      await p.client.send('unmute');
      people.push(p);
    }
    await Promise.all(people.map((p) => p.peer.waitConnected()));
    for (const [i, p] of people.entries()) {
      const expected = TONES.filter((_, j) => j !== i).sort();
      await p.peer.waitFor(
        () => {
          const heard = p.peer.heardTones(TONES, 0.5).filter((h) => h.share > 0.8);
          return (
            JSON.stringify(heard.map((h) => h.frequencyHz).sort()) === JSON.stringify(expected)
          );
        },
        15_000,
        `${p.peer.name} hearing ${expected.join(' and ')} Hz`,
      );
      expect(p.peer.errors).toEqual([]);
    }

    // Ann mutes: the server stops forwarding her voice, the others stop hearing 440 Hz.
    await people[0].client.send('mute');
    await sleep(500);
    for (const p of people.slice(1)) p.peer.resetAudio();
    await sleep(1500);
    for (const p of people.slice(1)) {
      const heard = p.peer.heardTones(TONES, 0.5);
      // Muted: 440 Hz is gone (silence has no power); the third participant is still heard.
      const ann = heard.filter((h) => h.frequencyHz === 440 && h.power > 0.001);
      expect(ann).toEqual([]);
      expect(heard.some((h) => h.share > 0.8 && h.power > 0.001)).toBe(true);
    }
  }, 60_000);

  it('voice sent before the first unmute is not forwarded; the unmute turns it on', async () => {
    const ch = `premute-${randomBytes(4).toString('hex')}`;
    const ann = await participant('Ann', ch);
    // A client that offers its microphone while the session is still muted (sessions join muted).
    ann.peer.addTone(440);
    const ben = await participant('Ben', ch);
    await Promise.all([ann.peer.waitConnected(), ben.peer.waitConnected()]);
    const sfu = host.app.get(SfuService);
    await ben.peer.waitFor(
      () => sfu.stats().producers >= 1 && sfu.stats().consumers >= 1,
      15_000,
      "Ann's voice producer and Ben's consumer of it",
    );
    await sleep(500);
    ben.peer.resetAudio();
    await sleep(1500);
    expect(ben.peer.heardTones([440], 0.5).filter((h) => h.power > 0.001)).toEqual([]);

    await ann.client.send('unmute');
    await ben.peer.waitFor(
      () => ben.peer.heardTones([440], 0.5).some((h) => h.share > 0.8),
      15_000,
      'Ben hearing Ann after her unmute',
    );
  }, 60_000);

  it('delivers a signal for one session only to that session, even of the same user', async () => {
    const ch = `sig-${randomBytes(4).toString('hex')}`;
    const { token } = await host.login('Dora');
    const a = await host.connect(token);
    const b = await host.connect(token);
    clients.push(a, b);
    await a.send('join', { channelID: ch });
    await b.send('join', { channelID: ch });
    const peerA = await gatewayPeer(a, 'Dora-A');
    const peerB = await gatewayPeer(b, 'Dora-B');
    peers.push(peerA, peerB);
    await Promise.all([peerA.waitConnected(), peerB.waitConnected()]);
    await sleep(300);
    for (const [client, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const signals = client.received('signal');
      expect(signals.length).toBeGreaterThan(0);
      expect(
        signals.every(
          (s) => s.data.connID === client.connectionId && s.data.session_id === client.connectionId,
        ),
      ).toBe(true);
      expect(signals.some((s) => s.data.connID === other.connectionId)).toBe(false);
      expect(
        signals.map((s) => (JSON.parse(s.data.data as string) as { type: string }).type),
      ).toContain('answer');
    }
  }, 30_000);

  it('the stock Mattermost client (calls-common RTCPeer) joins, unmutes, hears and is heard', async () => {
    const ch = `stock-${randomBytes(4).toString('hex')}`;
    const other = await participant('Eve', ch);
    other.peer.addTone(660);
    await other.client.send('unmute');

    const { token } = await host.login('Mattermost Client');
    const client = await host.connect(token);
    clients.push(client);
    await client.send('join', { channelID: ch });
    await client.waitFor('join', (e) => e.data.connID === client.connectionId);

    const RTCPeer = loadStockRTCPeer();
    const webrtc = await browserLikeWebRtc();
    const logs: string[] = [];
    const logger = {
      logDebug: () => undefined,
      logErr: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
      logWarn: (...args: unknown[]) => logs.push(args.map(String).join(' ')),
      logInfo: () => undefined,
    };
    const rtcPeer: StockRTCPeer = new RTCPeer({
      iceServers: [],
      logger,
      webrtc,
      connTimeoutMs: 15_000,
    });
    peers.push({ close: () => rtcPeer.destroy() });
    const errors: unknown[] = [];
    rtcPeer.on('error', (err: unknown) => errors.push(err));
    // Wired as the Mattermost web app wires RTCPeer to its calls websocket.
    const sendSdp = (desc: unknown) =>
      void client.send('sdp', { data: deflateSync(Buffer.from(JSON.stringify(desc))) });
    rtcPeer.on('offer', sendSdp);
    rtcPeer.on('answer', sendSdp);
    rtcPeer.on('candidate', (c: unknown) => void client.send('ice', { data: JSON.stringify(c) }));
    client.socket.on(
      'custom_com.mattermost.calls_signal',
      (e: { data: { connID: string; data: string } }) => {
        if (e.data.connID !== client.connectionId) return;
        const type = (JSON.parse(e.data.data) as { type: string }).type;
        if (['offer', 'answer', 'candidate'].includes(type))
          void rtcPeer.signal(e.data.data).catch((err: unknown) => errors.push(err));
      },
    );
    const remote: unknown[] = [];
    rtcPeer.on('stream', (stream: unknown) => remote.push(stream));
    await new Promise<void>((resolve, reject) => {
      rtcPeer.once('connect', resolve);
      rtcPeer.once('close', reject);
    });

    // First unmute adds the microphone track (a 990 Hz tone), as the Mattermost client does.
    const wrtc = (await import('@roamhq/wrtc')) as unknown as {
      nonstandard: {
        RTCAudioSource: new () => { createTrack(): unknown; onData(d: unknown): void };
      };
      MediaStream: new (tracks: unknown[]) => unknown;
    };
    const source = new wrtc.nonstandard.RTCAudioSource();
    const { ToneGenerator } = await import('@app/calls/testing');
    const tone = new ToneGenerator(990);
    const timer = setInterval(
      () => source.onData({ samples: tone.nextFrame(), sampleRate: 48000, channelCount: 1 }),
      10,
    );
    peers.push({ close: () => clearInterval(timer) });
    rtcPeer.addStream(new wrtc.MediaStream([source.createTrack()]));
    await client.send('unmute');

    // The other participant hears the stock client's tone...
    await other.peer.waitFor(
      () =>
        other.peer.heardTones([660, 990], 0.5).some((h) => h.frequencyHz === 990 && h.share > 0.8),
      15_000,
      'Eve hearing the stock client (990 Hz)',
    );
    // ...and the stock client receives Eve's audio (inbound RTP counted by its own getStats).
    let packets = 0;
    for (let i = 0; i < 100 && packets < 50; i++) {
      await sleep(100);
      packets = 0;
      for (const s of (await rtcPeer.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio')
          packets += Number(s.packetsReceived ?? 0);
      }
    }
    expect(remote.length).toBeGreaterThan(0);
    expect(packets).toBeGreaterThanOrEqual(50);
    expect(errors).toEqual([]);
    expect(logs).toEqual([]);
  }, 60_000);
});
