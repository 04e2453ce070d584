import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@app/calls/testing';
import { parsePrometheus } from './support/calls-probe';
import { TestHostApp, type TestClient } from './support/host-app';

const channel = () => `ch-${randomBytes(5).toString('hex')}`;
const sessionsOf = (callStateEvent: { data: Record<string, unknown> }) =>
  callStateEvent.data.call
    ? (JSON.parse(callStateEvent.data.call as string) as { sessions: { session_id: string }[] })
        .sessions
    : [];

describe.each(['memory', 'redis'])('signaling lifecycle over socket.io [%s]', (backend) => {
  const prefix = `e2e:${backend}:${randomBytes(4).toString('hex')}:`;
  let host: TestHostApp;
  const clients: TestClient[] = [];
  const connect = async (name: string) => {
    const { token, userId } = await host.login(name);
    const client = await host.connect(token);
    clients.push(client);
    return { client, token, userId };
  };

  beforeAll(async () => {
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: backend,
      RUSTCHAT_REDIS_URL: testRedisUrl(),
      RUSTCHAT_CALLS_REDIS_KEY_PREFIX: prefix,
      RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '800',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
      RUSTCHAT_CALLS_WORKERS: '1',
      DEMO_ADMINS: 'Admin',
    });
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await host.close();
  });

  it('refuses unauthenticated sockets and requests', async () => {
    await expect(host.connect(null)).rejects.toThrow('unauthorized');
    await expect(host.connect('forged.token')).rejects.toThrow('unauthorized');
    await host.http.get('/plugins/com.mattermost.calls/channels').expect(401);
    await host.http.get('/plugins/com.mattermost.calls/version').expect(200);
  });

  it('join: join, user_joined, call_start, call_state; a second joiner; leave; last leave ends the call', async () => {
    const ch = channel();
    const alice = await connect('Alice');
    const bob = await connect('Bob');
    await alice.client.send('call_state', { channelID: ch });
    await bob.client.send('call_state', { channelID: ch });

    const ack = await alice.client.send<{ ok: boolean; connID: string }>('join', {
      channelID: ch,
      title: 'standup',
    });
    expect(ack).toMatchObject({ ok: true, connID: alice.client.connectionId });
    const aliceSession = alice.client.connectionId;
    expect((await alice.client.waitFor('join')).data).toEqual({ connID: aliceSession });
    const start = await bob.client.waitFor('call_start');
    expect(start.data).toMatchObject({
      channelID: ch,
      owner_id: alice.userId,
      host_id: alice.userId,
    });
    expect(start.broadcast.channel_id).toBe(ch);
    expect((await bob.client.waitFor('user_joined')).data).toMatchObject({
      user_id: alice.userId,
      session_id: aliceSession,
    });
    const state = await alice.client.waitFor('call_state', (e) => e.data.call !== '');
    expect(sessionsOf(state)).toEqual([
      expect.objectContaining({
        session_id: aliceSession,
        user_id: alice.userId,
        unmuted: false,
        raised_hand: 0,
      }),
    ]);
    expect((await alice.client.waitFor('call_host_changed')).data).toMatchObject({
      hostID: alice.userId,
    });

    await bob.client.send('join', { channelID: ch });
    const bobSession = bob.client.connectionId;
    await alice.client.waitFor('user_joined', (e) => e.data.session_id === bobSession);
    const bobState = await bob.client.waitFor('call_state', (e) => sessionsOf(e).length === 2);
    expect(sessionsOf(bobState).map((s) => s.session_id)).toEqual([aliceSession, bobSession]);
    expect(bob.client.received('join')).toHaveLength(1);

    await bob.client.send('leave');
    expect((await alice.client.waitFor('user_left')).data).toMatchObject({
      user_id: bob.userId,
      session_id: bobSession,
    });
    const active = await host.http
      .get(`/plugins/com.mattermost.calls/calls/${ch}/active`)
      .set('Authorization', `Bearer ${alice.token}`)
      .expect(200);
    expect(active.body).toEqual({ active: true });

    await alice.client.send('leave');
    await bob.client.waitFor('user_left', (e) => e.data.session_id === aliceSession);
    const after = await host.http
      .get(`/api/v4/plugins/com.mattermost.calls/calls/${ch}/active`)
      .set('Authorization', `Bearer ${alice.token}`)
      .expect(200);
    expect(after.body).toEqual({ active: false });
    expect(bob.client.received('call_end')).toHaveLength(0);
    if (backend === 'redis') {
      const redis = new Redis(testRedisUrl());
      expect(await redis.keys(`${prefix}state:*`)).toEqual([]);
      expect(await redis.exists(`${prefix}channel:${ch}`)).toBe(0);
      expect(await redis.scard(`${prefix}active`)).toBe(0);
      redis.disconnect();
    }
  });

  it('mute, hand, reaction and screen events reach the participants with Mattermost payloads', async () => {
    const ch = channel();
    const alice = await connect('Alice');
    const bob = await connect('Bob');
    const carol = await connect('Carol');
    await carol.client.send('call_state', { channelID: ch });
    await alice.client.send('join', { channelID: ch });
    await bob.client.send('join', { channelID: ch });
    const a = alice.client.connectionId;

    await alice.client.send('unmute');
    expect((await bob.client.waitFor('user_unmuted')).data).toMatchObject({
      userID: alice.userId,
      session_id: a,
    });
    await alice.client.send('mute');
    expect((await bob.client.waitFor('user_muted')).data).toMatchObject({
      userID: alice.userId,
      session_id: a,
    });
    await alice.client.send('raise_hand');
    const hand = await bob.client.waitFor('user_raise_hand');
    expect(hand.data).toMatchObject({ userID: alice.userId, session_id: a });
    expect(hand.data.raised_hand).toBeGreaterThan(0);
    await alice.client.send('unraise_hand');
    expect((await bob.client.waitFor('user_unraise_hand')).data).toMatchObject({ raised_hand: 0 });
    await alice.client.send('react', {
      data: JSON.stringify({ name: 'tada', unified: '1f389', literal: '🎉' }),
    });
    const reaction = await bob.client.waitFor('user_reacted');
    expect(reaction.data).toMatchObject({
      user_id: alice.userId,
      session_id: a,
      emoji: { name: 'tada', literal: '🎉' },
    });

    await alice.client.send('screen_on', { data: JSON.stringify({ screenStreamID: 'stream-1' }) });
    expect((await bob.client.waitFor('user_screen_on')).data).toMatchObject({
      userID: alice.userId,
      session_id: a,
    });
    const refused = await bob.client.send<{ ok: boolean; error: { code: string } }>('screen_on', {
      data: JSON.stringify({ screenStreamID: 'stream-2' }),
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'screen_share_unavailable' } });
    await alice.client.send('screen_off');
    await bob.client.waitFor('user_screen_off');

    // Participants-only events do not reach a channel follower who is not in the call.
    await sleep(100);
    expect(carol.client.received('user_muted')).toHaveLength(0);
    expect(carol.client.received('user_joined').length).toBeGreaterThan(0);
  });

  it('reconnect re-binds the session without a second join; a vanished socket is removed after the grace', async () => {
    const ch = channel();
    const alice = await connect('Alice');
    const bob = await connect('Bob');
    await alice.client.send('join', { channelID: ch });
    await bob.client.send('join', { channelID: ch });
    const original = alice.client.connectionId;
    alice.client.close();
    await sleep(100);

    const again = await host.connect(alice.token);
    clients.push(again);
    const ack = await again.send('reconnect', {
      channelID: ch,
      originalConnID: original,
      prevConnID: original,
    });
    expect(ack).toMatchObject({ ok: true, connID: original });
    await sleep(1000); // longer than the grace: the session must survive
    expect(again.received('join')).toHaveLength(0);
    await again.send('unmute');
    expect((await bob.client.waitFor('user_unmuted')).data).toMatchObject({ session_id: original });
    expect(bob.client.received('user_left')).toHaveLength(0);

    // Bob vanishes and does not come back.
    const bobSession = bob.client.connectionId;
    bob.client.close();
    expect((await again.waitFor('user_left', undefined, 3000)).data).toMatchObject({
      session_id: bobSession,
    });
  });

  it('refuses a channel the user may not join, with an error ack and Mattermost error event', async () => {
    const bob = await connect('Bob');
    const ack = await bob.client.send('join', { channelID: 'private-board' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await bob.client.waitFor('error')).data).toMatchObject({
      connID: bob.client.connectionId,
    });
    const res = await host.http
      .get('/plugins/com.mattermost.calls/private-board')
      .set('Authorization', `Bearer ${bob.token}`)
      .expect(403);
    expect(res.body).toMatchObject({ status_code: 403 });
  });

  it('answers bad messages with clear errors, changes nothing, and counts each by type and result', async () => {
    const ch = channel();
    const alice = await connect('Alice');
    const counted = async () =>
      [...parsePrometheus((await host.http.get('/metrics')).text)].filter(([k]) =>
        k.startsWith('calls_signaling_messages_total{type="'),
      );
    const before = new Map(await counted());
    await alice.client.send('join', { channelID: ch });
    const bad = [
      ['join', { channelID: 42 }],
      ['join', 'not an object'],
      ['mute_everyone', {}],
      ['react', { data: '{not json' }],
      ['screen_on', { data: JSON.stringify({}) }],
      ['ice', { data: 'candidate:garbage' }],
      ['sdp', { data: 'v=1' }],
      ['reconnect', { channelID: ch }],
    ] as const;
    for (const [action, data] of bad) {
      const ack = await alice.client.send<{
        ok: boolean;
        error?: { code: string; message: string };
      }>(action, data);
      expect(ack.ok).toBe(false);
      expect(ack.error?.message.length).toBeGreaterThan(0);
    }
    const state = await host.http
      .get(`/plugins/com.mattermost.calls/${ch}`)
      .set('Authorization', `Bearer ${alice.token}`)
      .expect(200);
    expect(state.body.call.sessions).toHaveLength(1);
    expect(state.body.call.screen_sharing_session_id).toBe('');
    // An unknown action is refused before any handler and counted nowhere.
    const added = (await counted())
      .map(([k, v]) => [k.replace('calls_signaling_messages_total', ''), v - (before.get(k) ?? 0)])
      .filter(([, v]) => v !== 0);
    expect(Object.fromEntries(added)).toEqual({
      '{type="join",result="ok"}': 1,
      '{type="join",result="error"}': 2,
      '{type="react",result="error"}': 1,
      '{type="screen_on",result="error"}': 1,
      '{type="ice",result="error"}': 1,
      '{type="sdp",result="error"}': 1,
      '{type="reconnect",result="error"}': 1,
    });
  });

  it('host controls: host or admin only (403 otherwise), with Mattermost events', async () => {
    const ch = channel();
    const alice = await connect('Alice');
    const bob = await connect('Bob');
    const admin = await connect('Admin');
    const path = (p: string) => `/plugins/com.mattermost.calls/calls/${ch}/host/${p}`;
    await host.http
      .post(path('mute-others'))
      .set('Authorization', `Bearer ${alice.token}`)
      .expect(400);

    await alice.client.send('join', { channelID: ch });
    await bob.client.send('join', { channelID: ch });
    const b = bob.client.connectionId;
    await bob.client.send('unmute');
    await alice.client.waitFor('user_unmuted');

    const denied = await host.http
      .post(path('mute'))
      .set('Authorization', `Bearer ${bob.token}`)
      .send({ session_id: alice.client.connectionId })
      .expect(403);
    expect(denied.body).toMatchObject({ message: 'no permissions', status_code: 403 });
    for (const p of ['mute-others', 'screen-off', 'lower-hand', 'remove', 'end', 'make']) {
      await host.http
        .post(path(p))
        .set('Authorization', `Bearer ${bob.token}`)
        .send({ session_id: b, new_host_id: bob.userId })
        .expect(403);
    }

    await host.http
      .post(path('mute'))
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ session_id: b })
      .expect(200);
    expect((await bob.client.waitFor('host_mute')).data).toMatchObject({
      channel_id: ch,
      session_id: b,
    });
    expect((await alice.client.waitFor('user_muted')).data).toMatchObject({ session_id: b });

    await bob.client.send('raise_hand');
    await host.http
      .post(path('lower-hand'))
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ session_id: b })
      .expect(200);
    expect((await bob.client.waitFor('host_lower_hand')).data).toMatchObject({ session_id: b });

    await host.http
      .post(path('make'))
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ new_host_id: bob.userId })
      .expect(200);
    expect(
      (await alice.client.waitFor('call_host_changed', (e) => e.data.hostID === bob.userId)).data,
    ).toBeDefined();
    await host.http
      .post(path('mute-others'))
      .set('Authorization', `Bearer ${alice.token}`)
      .expect(403);
    await host.http
      .post(path('make'))
      .set('Authorization', `Bearer ${bob.token}`)
      .send({ new_host_id: 'nobody' })
      .expect(400);

    await host.http
      .post(path('remove'))
      .set('Authorization', `Bearer ${bob.token}`)
      .send({ session_id: alice.client.connectionId })
      .expect(200);
    expect((await alice.client.waitFor('host_removed')).data).toMatchObject({
      session_id: alice.client.connectionId,
    });
    await bob.client.waitFor(
      'user_left',
      (e) => e.data.session_id === alice.client.connectionId,
      6000,
    );

    await host.http.post(path('end')).set('Authorization', `Bearer ${admin.token}`).expect(200);
    await bob.client.waitFor('call_end');
    await bob.client.waitFor('user_left', (e) => e.data.session_id === b, 8000);
  }, 20_000);
});
