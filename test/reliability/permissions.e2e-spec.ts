import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WrtcTestPeer } from '@app/calls/testing';
import { CALLS_PATH, channelState } from '../support/calls-probe';
import { FaultRecorder } from '../support/fault-recorder';
import { gatewayPeer } from '../support/gateway-peer';
import { TestHostApp, type TestClient } from '../support/host-app';

type Ack = { ok: boolean; error?: { code: string; message: string }; call?: unknown };

interface Person {
  name: string;
  token: string;
  userId: string;
  client: TestClient;
}

describe('permissions: who may do what, and who receives what', () => {
  let faults: FaultRecorder;
  let host: TestHostApp;
  const people: Person[] = [];
  const peers: WrtcTestPeer[] = [];
  const open = `perm-${randomBytes(4).toString('hex')}`;
  const secret = `private-perm-${randomBytes(4).toString('hex')}`;
  let admin: Person;
  let hostUser: Person;
  let member: Person;
  let outsider: Person;

  const person = async (name: string): Promise<Person> => {
    const { token, userId } = await host.login(name);
    const p = { name, token, userId, client: await host.connect(token) };
    people.push(p);
    return p;
  };
  const post = (who: Person, path: string, body?: object) => {
    const req = host.http.post(path).set('Authorization', `Bearer ${who.token}`);
    return body ? req.send(body) : req;
  };
  const get = (who: Person, path: string) =>
    host.http.get(path).set('Authorization', `Bearer ${who.token}`);

  beforeAll(async () => {
    faults = FaultRecorder.install();
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '100000',
      DEMO_ADMINS: 'Perm Admin',
    });
    admin = await person('Perm Admin');
    hostUser = await person('Perm Host');
    member = await person('Perm Member');
    outsider = await person('Perm Outsider');
    expect(await hostUser.client.send('join', { channelID: open })).toMatchObject({ ok: true });
    expect(await member.client.send('join', { channelID: open })).toMatchObject({ ok: true });
    expect(await admin.client.send('join', { channelID: secret })).toMatchObject({ ok: true });
  });

  afterEach(() => {
    expect(faults.describe()).toEqual([]);
  });

  afterAll(async () => {
    peers.forEach((p) => p.close());
    for (const p of people) {
      if (p.client.socket.connected) await p.client.send('leave').catch(() => undefined);
      p.client.close();
    }
    await host.close();
    faults.uninstall();
  });

  /** Every host control route, with a body that would be valid for the host. */
  const hostControls = (channel: string, targetSession: string, newHost: string) =>
    [
      ['host/make', { new_host_id: newHost }],
      ['host/mute', { session_id: targetSession }],
      ['host/mute-others', undefined],
      ['host/screen-off', { session_id: targetSession }],
      ['host/lower-hand', { session_id: targetSession }],
      ['host/remove', { session_id: targetSession }],
      ['host/end', undefined],
      ['end', undefined],
    ].flatMap(([route, body]) =>
      ['/plugins/com.mattermost.calls', '/api/v4/plugins/com.mattermost.calls'].map(
        (prefix) =>
          [`${prefix}/calls/${channel}/${route as string}`, body as object | undefined] as const,
      ),
    );

  it('host controls are refused (403) to a participant who is not host and to an outsider; nothing changes', async () => {
    // Give the controls something to act on: the host is unmuted with a raised hand.
    expect(await hostUser.client.send('unmute')).toEqual({ ok: true });
    expect(await hostUser.client.send('raise_hand')).toEqual({ ok: true });
    const before = (await channelState(host, member.token, open)).body;
    const target = hostUser.client.connectionId;
    for (const who of [member, outsider]) {
      for (const [path, body] of hostControls(open, target, who.userId)) {
        const res = await post(who, path, body);
        expect({ who: who.name, path, status: res.status }).toEqual({
          who: who.name,
          path,
          status: 403,
        });
        expect(res.body).toMatchObject({ status_code: 403, message: expect.any(String) as string });
      }
    }
    await sleep(3500); // longer than the remove grace: a wrongly accepted remove would show now
    expect((await channelState(host, member.token, open)).body).toEqual(before);
    expect(member.client.received('call_end')).toEqual([]);
    expect(hostUser.client.received('host_mute')).toEqual([]);
    expect(hostUser.client.received('host_removed')).toEqual([]);
    // The same request from an admin is accepted: the routes themselves work.
    await post(admin, `${CALLS_PATH}/calls/${open}/host/lower-hand`, { session_id: target }).expect(
      200,
    );
  }, 30_000);

  it('on a private channel, every host control is refused to a non-admin (even the host of another call)', async () => {
    const adminSession = admin.client.connectionId;
    for (const who of [hostUser, outsider]) {
      for (const [path, body] of hostControls(secret, adminSession, who.userId)) {
        const res = await post(who, path, body);
        expect({ who: who.name, path, status: res.status }).toEqual({
          who: who.name,
          path,
          status: 403,
        });
      }
    }
    const state = (await channelState(host, admin.token, secret)).body as {
      call: { sessions: unknown[]; host_id: string };
    };
    expect(state.call.sessions).toHaveLength(1);
    expect(state.call.host_id).toBe(admin.userId);
  });

  it('a private channel cannot be joined, reconnected to, followed or read by a non-admin', async () => {
    const join = await outsider.client.send<Ack>('join', { channelID: secret });
    expect(join).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await outsider.client.waitFor('error')).data).toMatchObject({
      connID: outsider.client.connectionId,
    });
    const reconnect = await outsider.client.send<Ack>('reconnect', {
      channelID: secret,
      originalConnID: admin.client.connectionId,
      prevConnID: admin.client.connectionId,
    });
    expect(reconnect).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const follow = await outsider.client.send<Ack>('call_state', { channelID: secret });
    expect(follow).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(follow.call).toBeUndefined();

    for (const path of [`${CALLS_PATH}/${secret}`, `${CALLS_PATH}/calls/${secret}/active`]) {
      const res = await get(outsider, path);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(JSON.stringify(res.body)).not.toContain(admin.client.connectionId);
    }
    const listed = await get(outsider, `${CALLS_PATH}/channels`).expect(200);
    expect((listed.body as { channel_id: string }[]).map((c) => c.channel_id)).not.toContain(
      secret,
    );
    const adminList = await get(admin, `${CALLS_PATH}/channels`).expect(200);
    expect((adminList.body as { channel_id: string }[]).map((c) => c.channel_id)).toContain(secret);
    // Nothing about the private call reached the outsider's socket.
    await sleep(100);
    expect(
      outsider.client.events.filter(
        (e) =>
          JSON.stringify(e).includes(secret) && e.event !== 'custom_com.mattermost.calls_error',
      ),
    ).toEqual([]);
  });

  it('dismiss-notification: refused on a private channel; elsewhere it reaches only the dismissing user', async () => {
    await post(outsider, `${CALLS_PATH}/calls/${secret}/dismiss-notification`).expect(403);
    const watcher = await person('Perm Watcher');
    expect(await watcher.client.send('call_state', { channelID: open })).toMatchObject({
      ok: true,
    });
    await post(outsider, `${CALLS_PATH}/calls/${open}/dismiss-notification`).expect(200);
    await outsider.client.waitFor('user_dismissed_notification');
    await sleep(200);
    for (const p of [watcher, member, hostUser])
      expect(p.client.received('user_dismissed_notification')).toEqual([]);
    // Each user sees only their own dismissal.
    const mine = (await channelState(host, outsider.token, open)).body as {
      call: { dismissed_notification?: object };
    };
    expect(mine.call.dismissed_notification).toEqual({ [outsider.userId]: true });
    const theirs = (await channelState(host, member.token, open)).body as {
      call: { dismissed_notification?: object };
    };
    expect(theirs.call.dismissed_notification).toBeUndefined();
  });

  it('enabling or disabling calls in a channel (POST /{channel}) is for admins only', async () => {
    for (const who of [member, hostUser, outsider]) {
      const res = await post(who, `${CALLS_PATH}/${open}`, { enabled: false });
      expect({ who: who.name, status: res.status }).toEqual({ who: who.name, status: 403 });
    }
    expect((await channelState(host, member.token, open)).body).toMatchObject({ enabled: true });
    const other = `perm-toggle-${randomBytes(3).toString('hex')}`;
    await post(admin, `${CALLS_PATH}/${other}`, { enabled: false }).expect(200);
    expect(await outsider.client.send<Ack>('join', { channelID: other })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    await post(admin, `${CALLS_PATH}/${other}`, { enabled: true }).expect(200);
  });

  it("nobody can take over another user's session with reconnect", async () => {
    const res = await outsider.client.send<Ack>('reconnect', {
      channelID: open,
      originalConnID: member.client.connectionId,
      prevConnID: member.client.connectionId,
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'session_not_found' } });
    expect(await member.client.send('mute')).toEqual({ ok: true });
  });

  it("a socket serving one session cannot re-bind another of its user's sessions (no orphaned session)", async () => {
    const channel = `perm-dual-${randomBytes(3).toString('hex')}`;
    const { token } = await host.login('Perm Dual');
    const first = await host.connect(token);
    const second = await host.connect(token);
    expect(await first.send('join', { channelID: channel })).toMatchObject({ ok: true });
    expect(await second.send('join', { channelID: channel })).toMatchObject({ ok: true });
    // The second device, already serving its own session, names the first one.
    const ack = await second.send<Ack>('reconnect', {
      channelID: channel,
      originalConnID: first.connectionId,
      prevConnID: first.connectionId,
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'already_in_call' } });
    // Both leave and close: no session may stay behind.
    expect(await second.send('leave')).toEqual({ ok: true });
    expect(await first.send('leave')).toEqual({ ok: true });
    first.close();
    second.close();
    await sleep(300);
    expect((await channelState(host, admin.token, channel)).body.call).toBeUndefined();
  });

  it('a participant only ever receives its own sessions\u2019 signal events', async () => {
    const channel = `perm-signal-${randomBytes(3).toString('hex')}`;
    const follower = await person('Perm Follower');
    expect(await follower.client.send('call_state', { channelID: channel })).toMatchObject({
      ok: true,
    });
    const { token } = await host.login('Perm Twin');
    const twins = [await host.connect(token), await host.connect(token)];
    const other = await host.connect((await host.login('Perm Other')).token);
    const participants = [...twins, other];
    for (const [i, c] of participants.entries()) {
      people.push({ name: `signal ${i}`, token, userId: '', client: c });
      expect(await c.send('join', { channelID: channel })).toMatchObject({ ok: true });
      const peer = await gatewayPeer(c, `signal ${i}`);
      peer.addTone(440 + 110 * i);
      peers.push(peer);
      expect(await c.send('unmute')).toEqual({ ok: true });
    }
    await Promise.all(peers.slice(-3).map((p) => p.waitConnected(20_000)));
    await sleep(1000); // renegotiations for each other's tracks
    const counts: number[] = [];
    for (const c of participants) {
      const signals = c.received('signal');
      counts.push(signals.length);
      expect(signals.length).toBeGreaterThan(0);
      expect(signals.filter((s) => s.data.connID !== c.connectionId)).toEqual([]);
      expect(c.received('join').every((e) => e.data.connID === c.connectionId)).toBe(true);
    }
    expect(follower.client.received('signal')).toEqual([]);
    for (const p of people.filter((x) => !participants.includes(x.client))) {
      expect(
        p.client.received('signal').filter((s) => s.data.connID !== p.client.connectionId),
      ).toEqual([]);
    }
    console.log(`signals per participant: ${counts.join(', ')}; follower: 0`);
  }, 60_000);
});
