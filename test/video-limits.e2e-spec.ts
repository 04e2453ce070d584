import { randomBytes } from 'node:crypto';
import {
  AddTrackRequest,
  MuteTrackRequest,
  RequestResponse_Reason,
  TrackSource,
  TrackType,
} from '@livekit/protocol';
import { mintLiveKitToken } from '@app/calls';
import { TestHostApp, type TestClient } from './support/host-app';
import { LiveKitTestClient } from './support/livekit-test-client';

const KEY = 'lk-video-limits';
const SECRET = randomBytes(24).toString('hex');
const channel = () => `vl-${randomBytes(5).toString('hex')}`;

type Ack = { ok: boolean; error?: { code: string } };

/** A camera announcement of a LiveKit client. */
const camera = (cid: string) =>
  ({
    case: 'addTrack',
    value: new AddTrackRequest({ cid, type: TrackType.VIDEO, source: TrackSource.CAMERA }),
  }) as const;

/** The host app with LiveKit on and `env` (the limit under test). */
function hostWith(env: Record<string, string>) {
  const clients: { close(): void }[] = [];
  const ctx = {
    host: null as unknown as TestHostApp,
    async joinMm(name: string, ch: string): Promise<TestClient> {
      const { token } = await ctx.host.login(name);
      const client = await ctx.host.connect(token);
      clients.push(client);
      expect(await client.send('join', { channelID: ch })).toMatchObject({ ok: true });
      return client;
    },
    async joinLk(name: string, ch: string) {
      const { userId } = await ctx.host.login(name);
      const sessionId = randomBytes(13).toString('hex');
      const jwt = await mintLiveKitToken(
        { apiKey: KEY, apiSecret: SECRET },
        { identity: `${userId}___${sessionId}`, room: ch, ttlSeconds: 600 },
      );
      const client = await LiveKitTestClient.connect(ctx.host.url, '/livekit/rtc', jwt);
      clients.push(client);
      const join = await client.waitFor('join');
      return { client, sessionId, join };
    },
    async config(): Promise<Record<string, unknown>> {
      const { token } = await ctx.host.login('Reader');
      const res = await ctx.host.http
        .get('/plugins/com.mattermost.calls/config')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      return res.body as Record<string, unknown>;
    },
  };
  beforeAll(async () => {
    ctx.host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      ...env,
    });
  }, 30_000);
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  afterAll(async () => ctx.host?.close());
  return ctx;
}

const videoOn = (c: TestClient, streamId = `cam-${randomBytes(3).toString('hex')}`) =>
  c.send<Ack>('video_on', { data: JSON.stringify({ videoStreamID: streamId }) });

/**
 * The video limits of the configuration, enforced by the server on both protocols (signaling
 * only: they are decided before any media flows).
 */
describe('video limits: at most one camera on per call', () => {
  const t = hostWith({ RUSTCHAT_CALLS_MAX_CAMERAS: '1' });

  it('is reported by GET /config, and holds across protocols until the camera on goes off', async () => {
    expect(await t.config()).toMatchObject({
      EnableVideo: true,
      MaxCallCameras: 1,
      EnableSimulcast: false,
    });
    const ch = channel();
    const mary = await t.joinMm('Mary', ch);
    const max = await t.joinMm('Max', ch);
    const lisa = await t.joinLk('Lisa', ch);

    // Mary's camera is the one; Max's and Lisa's are refused.
    expect(await videoOn(mary)).toEqual({ ok: true });
    expect(await videoOn(max)).toMatchObject({ ok: false, error: { code: 'video_unavailable' } });
    lisa.client.send(camera('cam-1'));
    const refusal = await lisa.client.waitFor('requestResponse');
    expect(refusal.reason).toBe(RequestResponse_Reason.LIMIT_EXCEEDED);
    expect(lisa.client.received('trackPublished')).toEqual([]);

    // Mary's camera off: Lisa's goes on (Mattermost sees it), then Lisa mutes it (off) and Max's
    // goes on; Lisa unmuting is refused (her client is told to keep it muted).
    expect(await mary.send('video_off')).toEqual({ ok: true });
    lisa.client.send(camera('cam-2'));
    const published = await lisa.client.waitFor('trackPublished', (p) => p.cid === 'cam-2');
    await max.waitFor('user_video_on', (e) => e.data.session_id === lisa.sessionId, 5000);
    const sid = published.track!.sid;
    lisa.client.send({ case: 'mute', value: new MuteTrackRequest({ sid, muted: true }) });
    await max.waitFor('user_video_off', (e) => e.data.session_id === lisa.sessionId, 5000);
    expect(await videoOn(max)).toEqual({ ok: true });
    lisa.client.send({ case: 'mute', value: new MuteTrackRequest({ sid, muted: false }) });
    const keepMuted = await lisa.client.waitFor('mute', (m) => m.sid === sid);
    expect(keepMuted.muted).toBe(true);
    expect(
      max.received('user_video_on').filter((e) => e.data.session_id === lisa.sessionId),
    ).toHaveLength(1);

    // Max leaves with his camera on: the call has room again.
    expect(await max.send('leave')).toMatchObject({ ok: true });
    await mary.waitFor('user_video_off', (e) => e.data.session_id === max.connectionId, 5000);
    expect(await videoOn(mary)).toEqual({ ok: true });
  });
});

describe('video limits: cameras disabled', () => {
  const t = hostWith({
    RUSTCHAT_CALLS_ENABLE_VIDEO: 'false',
    RUSTCHAT_CALLS_ENABLE_SIMULCAST: 'true',
  });

  it('no camera turns on: video_on refused, LiveKit clients are not given the camera source', async () => {
    expect(await t.config()).toMatchObject({ EnableVideo: false, EnableSimulcast: true });
    const ch = channel();
    const mary = await t.joinMm('Mary', ch);
    expect(await videoOn(mary)).toMatchObject({ ok: false, error: { code: 'video_unavailable' } });
    const lisa = await t.joinLk('Lisa', ch);
    const sources = lisa.join.participant?.permission?.canPublishSources ?? [];
    expect(sources).toEqual(
      expect.arrayContaining([TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE]),
    );
    expect(sources).not.toContain(TrackSource.CAMERA);
    lisa.client.send(camera('cam-1'));
    const refusal = await lisa.client.waitFor('requestResponse');
    expect(refusal.reason).toBe(RequestResponse_Reason.NOT_ALLOWED);
    expect(lisa.client.received('trackPublished')).toEqual([]);
    expect(mary.received('user_video_on')).toEqual([]);
  });
});
