import { randomBytes } from 'node:crypto';
import {
  DisconnectReason,
  ParticipantInfo_State,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import { mintLiveKitToken } from '@app/calls';
import { TestRedisServer } from '@app/calls/testing';
import type { TestClient } from './support/host-app';
import { HostProcess } from './support/host-process';
import { LiveKitTestClient } from './support/livekit-test-client';

const KEY = 'lk-multi';
const SECRET = randomBytes(24).toString('hex');
const channel = () => `lkm-${randomBytes(4).toString('hex')}`;
const session = () => randomBytes(13).toString('hex');

/** Two host-app processes sharing one Redis (their own): LiveKit deliveries cross instances. */
describe('LiveKit across instances', () => {
  let redis: TestRedisServer;
  let hosts: HostProcess[] = [];
  const mm: TestClient[] = [];
  const lk: LiveKitTestClient[] = [];

  const env = (i: number): Record<string, string> => ({
    RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
    RUSTCHAT_REDIS_URL: redis.url,
    RUSTCHAT_CALLS_INSTANCE_ID: `lk-inst-${i}`,
    RUSTCHAT_CALLS_WORKERS: '1',
    RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
    RUSTCHAT_CALLS_HTTP_BURST: '10000',
    RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY}:${SECRET}`,
    DEMO_AUTH_SECRET: 'livekit-multi-instance-test-secret',
  });

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    hosts = await Promise.all([1, 2].map((i) => HostProcess.start(`lk-inst-${i}`, env(i))));
  }, 120_000);

  afterEach(() => {
    mm.splice(0).forEach((c) => c.close());
    lk.splice(0).forEach((c) => c.close());
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    await redis.stop();
  });

  async function joinLk(host: HostProcess, name: string, ch: string, sessionId = session()) {
    const { userId } = await host.login(name);
    const token = await mintLiveKitToken(
      { apiKey: KEY, apiSecret: SECRET },
      {
        identity: `${userId}___${sessionId}`,
        room: ch,
        name,
        grants: { canUpdateOwnMetadata: true },
        ttlSeconds: 600,
      },
    );
    const client = await LiveKitTestClient.connect(host.url, '/livekit/rtc', token);
    lk.push(client);
    const join = await client.waitFor('join');
    return { client, userId, sessionId, join, token };
  }

  it('a LiveKit participant on one instance sees Mattermost and LiveKit participants of another join, change and leave', async () => {
    const ch = channel();
    const alice = await joinLk(hosts[0], 'Alice', ch);

    // A Mattermost participant joins on the other instance.
    const { token } = await hosts[1].login('Bob');
    const bob = await hosts[1].connect(token);
    mm.push(bob);
    expect(await bob.send('join', { channelID: ch })).toMatchObject({ ok: true });
    const bobSid = `PA_${bob.connectionId}`;
    await alice.client.waitFor(
      'update',
      (u) => u.participants.some((p) => p.sid === bobSid),
      10_000,
    );
    await bob.send('raise_hand');
    await alice.client.waitFor(
      'update',
      (u) => u.participants.some((p) => p.sid === bobSid && Number(p.attributes.raised_hand) > 0),
      10_000,
    );

    // A LiveKit participant on the other instance: its name and attributes cross too.
    alice.client.send({
      case: 'updateMetadata',
      value: new UpdateParticipantMetadata({ attributes: { status: 'presenting' }, requestId: 1 }),
    });
    await alice.client.waitFor('update', (u) =>
      u.participants.some(
        (p) => p.sid === `PA_${alice.sessionId}` && p.attributes.status === 'presenting',
      ),
    );
    const gina = await joinLk(hosts[1], 'Gina', ch);
    await gina.client.waitFor(
      'update',
      (u) =>
        u.participants.some(
          (p) =>
            p.sid === `PA_${alice.sessionId}` &&
            p.name === 'Alice' &&
            p.attributes.status === 'presenting',
        ),
      10_000,
    );
    await alice.client.waitFor(
      'update',
      (u) => u.participants.some((p) => p.sid === `PA_${gina.sessionId}` && p.name === 'Gina'),
      10_000,
    );

    await bob.send('leave');
    await alice.client.waitFor(
      'update',
      (u) =>
        u.participants.some(
          (p) => p.sid === bobSid && p.state === ParticipantInfo_State.DISCONNECTED,
        ),
      10_000,
    );
  }, 60_000);

  it('the same identity joining on another instance replaces the older participant', async () => {
    const ch = channel();
    const first = await joinLk(hosts[0], 'Hank', ch);
    const again = await joinLk(hosts[1], 'Hank', ch, first.sessionId);
    expect(again.join.participant?.sid).toBe(`PA_${first.sessionId}`);
    const leave = await first.client.waitFor('leave', undefined, 10_000);
    expect([DisconnectReason.DUPLICATE_IDENTITY, DisconnectReason.PARTICIPANT_REMOVED]).toContain(
      leave.reason,
    );
    expect(await hosts[0].sessionIds(ch)).toEqual([first.sessionId]);
  }, 60_000);
});
