import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { mintLiveKitToken } from '@app/calls';
import { TestHostApp, type TestClient } from './support/host-app';

const KEY = 'lk-client';
const SECRET = randomBytes(24).toString('hex');

/** livekit-client in Node 20: WebRTC from @roamhq/wrtc, WebSocket from ws, a navigator stub. */
function loadLiveKitClient(): typeof import('livekit-client') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wrtc = require('@roamhq/wrtc') as Record<string, unknown>;
  Object.assign(globalThis, {
    RTCPeerConnection: wrtc.RTCPeerConnection,
    RTCSessionDescription: wrtc.RTCSessionDescription,
    RTCIceCandidate: wrtc.RTCIceCandidate,
    MediaStream: wrtc.MediaStream,
    MediaStreamTrack: wrtc.MediaStreamTrack,
    WebSocket,
  });
  const g = globalThis as { navigator?: unknown };
  g.navigator ??= { userAgent: 'node' };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('livekit-client') as typeof import('livekit-client');
}

/**
 * The stock LiveKit client (livekit-client 2.23.0) in Node against the endpoint: it falls back
 * from /rtc/v1 to /rtc, accepts the join response, sees the call's participants, and its
 * publisher connection (wrtc) connects to the SFU, so `connect()` resolves. Media in a real
 * browser: livekit-media.browser.e2e-spec.ts.
 */
describe('livekit-client against the LiveKit endpoint (signaling)', () => {
  let host: TestHostApp;
  const mm: TestClient[] = [];

  beforeAll(async () => {
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
    });
  });

  afterAll(async () => {
    mm.forEach((c) => c.close());
    await host.close();
  });

  it('falls back to /rtc, joins, and sees a Mattermost participant of the call', async () => {
    const { Room, RoomEvent, setLogLevel } = loadLiveKitClient();
    setLogLevel('warn');
    const ch = `lkc-${randomBytes(4).toString('hex')}`;
    const bob = await host.login('Bob');
    const socket = await host.connect(bob.token);
    mm.push(socket);
    expect(await socket.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const ann = await host.login('Ann');
    const sessionId = randomBytes(13).toString('hex');
    const token = await mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      {
        identity: `${ann.userId}___${sessionId}`,
        room: ch,
        name: 'Ann',
        grants: { canUpdateOwnMetadata: true },
        ttlSeconds: 600,
      },
    );
    const room = new Room();
    const signalConnected = new Promise<void>((resolve) =>
      room.once(RoomEvent.SignalConnected, () => resolve()),
    );
    const connecting = room
      .connect(`${host.url.replace('http', 'ws')}/livekit`, token, { peerConnectionTimeout: 3000 })
      .catch((err: unknown) => err);
    try {
      await signalConnected;
      expect(room.localParticipant.sid).toBe(`PA_${sessionId}`);
      expect(room.localParticipant.identity).toBe(`${ann.userId}___${sessionId}`);
      expect(room.name).toBe(ch);
      const identities = [...room.remoteParticipants.values()].map((p) => p.identity);
      expect(identities).toEqual([`${bob.userId}___${socket.connectionId}`]);
      await socket.waitFor('user_joined', (e) => e.data.session_id === sessionId);
      // The publisher connection (its data channels) connected to the SFU.
      expect(await connecting).toBeUndefined();
    } finally {
      await room.disconnect();
    }
  }, 30_000);
});
