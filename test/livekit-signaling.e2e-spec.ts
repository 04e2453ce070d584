import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DisconnectReason,
  LeaveRequest,
  LeaveRequest_Action,
  MuteTrackRequest,
  ParticipantInfo_State,
  Ping,
  TrackSource,
  TrackType,
  AddTrackRequest,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import WebSocket from 'ws';
import { mintLiveKitToken, type LiveKitGrantsInput } from '@app/calls';
import { TestHostApp, type TestClient } from './support/host-app';
import { LiveKitTestClient, UpgradeRefused } from './support/livekit-test-client';

const KEY = 'lk-test';
const SECRET = 's'.repeat(24) + randomBytes(12).toString('hex');
const PATH = '/livekit';
const channel = () => `lk-${randomBytes(5).toString('hex')}`;
const session = () => randomBytes(13).toString('hex');

/** A JWT signed by hand (HMAC), for tokens the SDK would not mint. */
function handSigned(header: object, payload: object, secret = SECRET, alg = 'sha256'): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(alg, secret).update(body).digest('base64url')}`;
}

describe('LiveKit signaling', () => {
  let host: TestHostApp;
  const mm: TestClient[] = [];
  const lk: LiveKitTestClient[] = [];

  const token = (
    identity: string,
    room: string,
    grants: LiveKitGrantsInput = { canUpdateOwnMetadata: true },
    name?: string,
  ) =>
    mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      { identity, room, grants, ttlSeconds: 600, name },
    );
  const connectLk = async (jwt: string | null) => {
    const client = await LiveKitTestClient.connect(host.url, `${PATH}/rtc`, jwt);
    lk.push(client);
    return client;
  };
  /** A demo user joined over LiveKit: its client, user id, session id and join response. */
  const joinLk = async (name: string, ch: string, sessionId = session()) => {
    const { userId } = await host.login(name);
    const client = await connectLk(await token(`${userId}___${sessionId}`, ch));
    const join = await client.waitFor('join');
    return { client, userId, sessionId, join };
  };
  const connectMm = async (name: string) => {
    const { token: t, userId } = await host.login(name);
    const client = await host.connect(t);
    mm.push(client);
    return { client, userId, token: t };
  };
  const sessionsOf = async (ch: string): Promise<string[]> => {
    const { token: t } = await host.login('Admin');
    const res = await host.http
      .get(`/plugins/com.mattermost.calls/${ch}`)
      .set('Authorization', `Bearer ${t}`)
      .expect(200);
    const call = res.body.call as { sessions: { session_id: string }[] } | undefined;
    return (call?.sessions ?? []).map((s) => s.session_id).sort();
  };
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('connected');
      },
      (err: unknown) => {
        if (!(err instanceof UpgradeRefused)) throw err;
        return err;
      },
    );

  beforeAll(async () => {
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
      RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '500',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      RUSTCHAT_CALLS_WORKERS: '1',
      DEMO_ADMINS: 'Admin',
    });
  });

  afterEach(() => {
    mm.splice(0).forEach((c) => c.close());
    lk.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await host.close();
  });

  it('refuses bad, expired, forged and foreign tokens before anything is created', async () => {
    const ch = channel();
    const { userId } = await host.login('Refused');
    const identity = `${userId}___${session()}`;
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: KEY, sub: identity, nbf: now - 5, video: { roomJoin: true, room: ch } };
    const cases: [string, string | null, number][] = [
      ['no token', null, 401],
      ['not a JWT', 'garbage', 401],
      ['expired', handSigned({ alg: 'HS256' }, { ...claims, exp: now - 60 }), 401],
      ['no exp', handSigned({ alg: 'HS256' }, claims), 401],
      ['forged', handSigned({ alg: 'HS256' }, { ...claims, exp: now + 60 }, 'x'.repeat(40)), 401],
      ['HS512', handSigned({ alg: 'HS512' }, { ...claims, exp: now + 60 }, SECRET, 'sha512'), 401],
      [
        'unknown key',
        handSigned({ alg: 'HS256' }, { ...claims, iss: 'other', exp: now + 60 }),
        401,
      ],
      [
        'no roomJoin',
        handSigned({ alg: 'HS256' }, { ...claims, video: { room: ch }, exp: now + 60 }),
        401,
      ],
      ['bad identity', await token('a___b___c', ch), 401],
      ['a channel the user may not join', await token(identity, `private-${ch}`), 403],
    ];
    for (const [what, jwt, status] of cases) {
      const err = await refused(connectLk(jwt));
      expect([what, err.status]).toEqual([what, status]);
      const validate = await host.http
        .get(`${PATH}/rtc/validate`)
        .query(jwt ? { access_token: jwt } : {});
      expect([what, validate.status]).toEqual([what, status]);
    }
    expect(await sessionsOf(ch)).toEqual([]);
    expect(await sessionsOf(`private-${ch}`)).toEqual([]);
    const ok = await host.http
      .get(`${PATH}/rtc/validate`)
      .query({ access_token: await token(identity, ch) });
    expect([ok.status, ok.text]).toEqual([200, 'success']);
    expect(await sessionsOf(ch)).toEqual([]);
  });

  it('join: the join response describes the room, the participant and the server; ping and ping_req are answered', async () => {
    const ch = channel();
    const { userId } = await host.login('Joiner');
    const sessionId = session();
    const client = await connectLk(
      await token(`${userId}___${sessionId}`, ch, { canUpdateOwnMetadata: true }, 'Joiner J.'),
    );
    const join = await client.waitFor('join');
    expect(join.room).toMatchObject({ name: ch });
    expect(join.room?.sid).toMatch(/^RM_/);
    expect(JSON.parse(join.room?.metadata ?? '{}')).toEqual({ host_id: userId });
    expect(join.participant).toMatchObject({
      sid: `PA_${sessionId}`,
      identity: `${userId}___${sessionId}`,
      name: 'Joiner J.',
      state: ParticipantInfo_State.ACTIVE,
    });
    expect(join.participant?.permission).toMatchObject({
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      canUpdateMetadata: true,
    });
    expect(join.participant?.version).toBeGreaterThan(0);
    expect(join.otherParticipants).toEqual([]);
    expect(join.serverVersion).not.toBe('');
    expect(join.serverInfo?.version).toBe(join.serverVersion);
    expect([join.pingInterval, join.pingTimeout, join.subscriberPrimary]).toEqual([5, 15, false]);
    expect(join.clientConfiguration?.resumeConnection).toBe(1 /* DISABLED */);
    expect(await sessionsOf(ch)).toEqual([sessionId]);

    client.send({ case: 'ping', value: 1234n });
    expect(await client.waitFor('pong')).toBe(1234n);
    client.send({ case: 'pingReq', value: new Ping({ timestamp: 5678n, rtt: 0n }) });
    const pong = await client.waitFor('pongResp');
    expect(pong.lastPingTimestamp).toBe(5678n);
    expect(pong.timestamp).toBeGreaterThan(0n);

    // Metadata without the grant is refused with the request's id.
    const plain = await connectLk(await token(`${userId}___${session()}`, ch, {}));
    await plain.waitFor('join');
    plain.send({
      case: 'updateMetadata',
      value: new UpdateParticipantMetadata({ attributes: { raised_hand: '1' }, requestId: 3 }),
    });
    const refusal = await plain.waitFor('requestResponse');
    expect([refusal.requestId, refusal.reason]).toEqual([3, 2 /* NOT_ALLOWED */]);
    plain.send({
      case: 'leave',
      value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
    });
    await plain.closed;

    client.send({
      case: 'leave',
      value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
    });
    await client.closed;
    expect(await sessionsOf(ch)).toEqual([]);
  });

  it('a LiveKit and a Mattermost participant share one call: joins, hands, mute, leaves, both ways', async () => {
    const ch = channel();
    const bob = await connectMm('Bob');
    await bob.client.send('call_state', { channelID: ch });
    const alice = await joinLk('Alice', ch);
    const joined = await bob.client.waitFor(
      'user_joined',
      (e) => e.data.session_id === alice.sessionId,
    );
    expect(joined.data).toMatchObject({ user_id: alice.userId });

    await bob.client.send('join', { channelID: ch });
    const bobSession = bob.client.connectionId;
    const bobIdentity = `${bob.userId}___${bobSession}`;
    const seen = await alice.client.waitFor('update', (u) =>
      u.participants.some((p) => p.identity === bobIdentity),
    );
    expect(seen.participants[0]).toMatchObject({
      sid: `PA_${bobSession}`,
      name: bob.userId,
      state: ParticipantInfo_State.ACTIVE,
    });

    // LiveKit raises its hand (an attribute) → Mattermost sees user_raise_hand; the sender sees its value.
    const raisedAt = String(Date.now());
    alice.client.send({
      case: 'updateMetadata',
      value: new UpdateParticipantMetadata({ attributes: { raised_hand: raisedAt }, requestId: 7 }),
    });
    const raised = await bob.client.waitFor(
      'user_raise_hand',
      (e) => e.data.session_id === alice.sessionId,
    );
    expect(Number(raised.data.raised_hand)).toBeGreaterThan(0);
    await alice.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.sid === `PA_${alice.sessionId}` && p.attributes.raised_hand === raisedAt,
      ),
    );
    // Mattermost raises its hand → the LiveKit client sees the attribute.
    await bob.client.send('raise_hand');
    await alice.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.identity === bobIdentity && Number(p.attributes.raised_hand) > 0,
      ),
    );
    await bob.client.send('unraise_hand');
    await alice.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.identity === bobIdentity && p.attributes.raised_hand === undefined,
      ),
    );

    // LiveKit mute ↔ the core's: the microphone track's mute is the session's.
    alice.client.send({
      case: 'addTrack',
      value: new AddTrackRequest({
        cid: 'mic-1',
        type: TrackType.AUDIO,
        source: TrackSource.MICROPHONE,
        muted: true,
      }),
    });
    const published = await alice.client.waitFor('trackPublished', (t) => t.cid === 'mic-1');
    expect(published.track?.sid).toMatch(/^TR_/);
    const micSid = published.track!.sid;
    alice.client.send({ case: 'mute', value: new MuteTrackRequest({ sid: micSid, muted: false }) });
    await bob.client.waitFor('user_unmuted', (e) => e.data.session_id === alice.sessionId);
    alice.client.send({ case: 'mute', value: new MuteTrackRequest({ sid: micSid, muted: true }) });
    await bob.client.waitFor('user_muted', (e) => e.data.session_id === alice.sessionId);
    // Mattermost unmute reaches the state (LiveKit clients see it on Bob's microphone track once media exists).
    await bob.client.send('unmute');
    const state = await host.http
      .get(`/plugins/com.mattermost.calls/${ch}`)
      .set('Authorization', `Bearer ${bob.token}`)
      .expect(200);
    const sessions = (state.body.call as { sessions: { session_id: string; unmuted: boolean }[] })
      .sessions;
    expect(sessions.find((s) => s.session_id === bobSession)?.unmuted).toBe(true);
    // A host mutes the LiveKit participant: server `mute` of its microphone, and the core state.
    alice.client.send({ case: 'mute', value: new MuteTrackRequest({ sid: micSid, muted: false }) });
    await bob.client.waitFor('user_unmuted', (e) => e.data.session_id === alice.sessionId, 5000);
    const admin = await host.login('Admin');
    const earlier = new Set(bob.client.received('user_muted'));
    await host.http
      .post(`/plugins/com.mattermost.calls/calls/${ch}/host/mute`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ session_id: alice.sessionId })
      .expect(200);
    const serverMute = await alice.client.waitFor('mute', (m) => m.sid === micSid);
    expect(serverMute.muted).toBe(true);
    await bob.client.waitFor(
      'user_muted',
      (e) => e.data.session_id === alice.sessionId && !earlier.has(e),
    );

    // Leaves, both ways.
    await bob.client.send('leave');
    await alice.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.identity === bobIdentity && p.state === ParticipantInfo_State.DISCONNECTED,
      ),
    );
    alice.client.send({
      case: 'leave',
      value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
    });
    await bob.client.waitFor('user_left', (e) => e.data.session_id === alice.sessionId);
    expect(await sessionsOf(ch)).toEqual([]);
  }, 20_000);

  it('host controls reach a LiveKit participant: remove → leave PARTICIPANT_REMOVED; end → leave ROOM_DELETED', async () => {
    const ch = channel();
    const admin = await host.login('Admin');
    const carol = await joinLk('Carol', ch);
    const dave = await joinLk('Dave', ch);
    await carol.client.waitFor('update', (u) =>
      u.participants.some((p) => p.sid === `PA_${dave.sessionId}`),
    );
    await host.http
      .post(`/plugins/com.mattermost.calls/calls/${ch}/host/remove`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ session_id: dave.sessionId })
      .expect(200);
    const removed = await dave.client.waitFor('leave');
    expect([removed.reason, removed.action]).toEqual([
      DisconnectReason.PARTICIPANT_REMOVED,
      LeaveRequest_Action.DISCONNECT,
    ]);
    await dave.client.closed;
    await carol.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.sid === `PA_${dave.sessionId}` && p.state === ParticipantInfo_State.DISCONNECTED,
      ),
    );
    expect(await sessionsOf(ch)).toEqual([carol.sessionId]);

    await host.http
      .post(`/plugins/com.mattermost.calls/calls/${ch}/host/end`)
      .set('Authorization', `Bearer ${admin.token}`)
      .expect(200);
    const ended = await carol.client.waitFor('leave');
    expect(ended.reason).toBe(DisconnectReason.ROOM_DELETED);
    await carol.client.closed;
    expect(await sessionsOf(ch)).toEqual([]);
  });

  it('the same identity joining again replaces the older participant (leave DUPLICATE_IDENTITY)', async () => {
    const ch = channel();
    const first = await joinLk('Erin', ch);
    const again = await connectLk(await token(`${first.userId}___${first.sessionId}`, ch));
    const join = await again.waitFor('join');
    expect(join.participant?.sid).toBe(`PA_${first.sessionId}`);
    const leave = await first.client.waitFor('leave');
    expect(leave.reason).toBe(DisconnectReason.DUPLICATE_IDENTITY);
    await first.client.closed;
    expect(await sessionsOf(ch)).toEqual([first.sessionId]);
    again.send({ case: 'ping', value: 1n });
    await again.waitFor('pong');
  });

  it('malformed, oversized and text frames close the connection with a reason; the server goes on', async () => {
    const ch = channel();
    const cases: [string, (ws: WebSocket) => void, number][] = [
      ['malformed', (ws) => ws.send(Buffer.from([0x0a, 0xff, 0x01])), 1007],
      ['oversized', (ws) => ws.send(Buffer.alloc(70 * 1024, 1)), 1009],
      ['text', (ws) => ws.send('{"ping": 1}'), 1003],
    ];
    for (const [what, send, code] of cases) {
      const p = await joinLk(`Frame${what}`, ch);
      send(p.client.socket);
      const closed = await p.client.closed;
      expect([what, closed.code]).toEqual([what, code]);
      expect(closed.reason).not.toBe('');
    }
    // A flood over the per-connection rate limit (burst 100) closes the connection too.
    const flood = await joinLk('Flood', ch);
    for (let i = 0; i < 150; i++) flood.client.send({ case: 'ping', value: BigInt(i) });
    expect(await flood.client.closed).toEqual({ code: 1008, reason: 'rate limited' });
    const next = await joinLk('AfterFrames', ch);
    next.client.send({ case: 'ping', value: 9n });
    expect(await next.client.waitFor('pong')).toBe(9n);
  });

  it("/rtc/v1 is refused (404) so clients fall back to /rtc; socket.io works on the same server; a LiveKit socket outlives engine.io's upgrade timeout", async () => {
    const ch = channel();
    const { userId } = await host.login('Fallback');
    const jwt = await token(`${userId}___${session()}`, ch);
    const v1 = await refused(LiveKitTestClient.connect(host.url, `${PATH}/rtc/v1`, jwt));
    expect(v1.status).toBe(404);
    const validate = await host.http.get(`${PATH}/rtc/v1/validate`).query({ access_token: jwt });
    expect(validate.status).toBe(404);
    expect(validate.text).not.toContain('requested room does not exist');
    await host.http.head(PATH).expect(200);
    await host.http.get(`${PATH}/rtc`).expect(404);

    const client = await connectLk(jwt);
    await client.waitFor('join');
    const mmClient = await connectMm('SocketIo');
    expect(await mmClient.client.send('call_state', { channelID: ch })).toMatchObject({ ok: true });
    await sleep(1300);
    client.send({ case: 'ping', value: 42n });
    expect(await client.waitFor('pong')).toBe(42n);
    await host.http.get('/plugins/com.mattermost.calls/version').expect(200, {
      version: '1.6.0',
      build: 'calls-for-chat-servers',
    });
  });

  it('livekit-token: POST mints a session and a token that joins; GET mints one for a session in the call', async () => {
    const ch = channel();
    const frank = await connectMm('Frank');
    const post = await host.http
      .post('/plugins/com.mattermost.calls/livekit-token')
      .set('Authorization', `Bearer ${frank.token}`)
      .send({ channel_id: ch, title: 'sync' })
      .expect(200);
    expect(post.body).toMatchObject({
      url: `${host.url.replace('http', 'ws')}${PATH}`,
      call_state: { channel_id: ch, call: '' },
    });
    const sessionId = post.body.session_id as string;
    const client = await connectLk(post.body.token as string);
    const join = await client.waitFor('join');
    expect(join.participant).toMatchObject({
      identity: `${frank.userId}___${sessionId}`,
      name: frank.userId,
    });
    expect(join.participant?.permission?.canUpdateMetadata).toBe(true);

    const get = await host.http
      .get('/plugins/com.mattermost.calls/livekit-token')
      .query({ channel_id: ch, session_id: sessionId })
      .set('Authorization', `Bearer ${frank.token}`)
      .expect(200);
    expect(get.body).toMatchObject({
      url: expect.stringMatching(/^ws:/),
      token: expect.any(String),
    });
    await host.http
      .get('/plugins/com.mattermost.calls/livekit-token')
      .query({ channel_id: ch, session_id: 'nope' })
      .set('Authorization', `Bearer ${frank.token}`)
      .expect(400);
    await host.http
      .post('/plugins/com.mattermost.calls/livekit-token')
      .send({ channel_id: ch })
      .expect(401);
  });
});
