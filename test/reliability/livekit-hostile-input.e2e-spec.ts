import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AddTrackRequest,
  DisconnectReason,
  LeaveRequest,
  MuteTrackRequest,
  RequestResponse_Reason,
  SessionDescription,
  SignalRequest,
  SignalTarget,
  TrackSource,
  TrackType,
  TrickleRequest,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import WebSocket from 'ws';
import { mintLiveKitToken, type LiveKitGrantsInput } from '@app/calls';
import { testRedisUrl } from '@app/calls/testing';
import { CALLS_PATH, channelState, parsePrometheus, until } from '../support/calls-probe';
import { FaultRecorder } from '../support/fault-recorder';
import { Rng } from '../support/fuzz';
import { TestHostApp, type TestClient } from '../support/host-app';
import {
  hostileSignal,
  type HostileSignal,
  type LiveKitHostileContext,
} from '../support/livekit-hostile-signals';
import type { LiveKitMediaPeer } from '../support/livekit-media-peer';
import { hostileFrame, type HostileFrame } from '../support/livekit-hostile-frames';
import { LiveKitTestClient, type ServerMessage } from '../support/livekit-test-client';
import { hostileToken } from '../support/livekit-tokens-hostile';
import { LogRecorder } from '../support/log-recorder';
import { fuzzMessage } from '../support/protobuf-fuzz';
import { captureRealOffer } from '../support/real-offer';

const REQUESTS = Number(process.env.FUZZ_LIVEKIT_REQUESTS ?? 2000);
const FRAMES = Number(process.env.FUZZ_LIVEKIT_FRAMES ?? 120);
const TOKENS = Number(process.env.FUZZ_LIVEKIT_TOKENS ?? 80);
// A fixed corpus by default (reproducible runs); FUZZ_SEED=<n> replays one, FUZZ_SEED=random explores.
const SEED =
  process.env.FUZZ_SEED === 'random'
    ? randomBytes(4).readUInt32LE()
    : Number(process.env.FUZZ_SEED ?? 20261207);
const KEY = { apiKey: 'lk-fuzz', apiSecret: randomBytes(24).toString('hex') };
const PATH = '/livekit';
/** The per-connection signal rate this host allows (messages per second and burst). */
const WS_RATE = 3000;
/** Marker pings: values no fuzzed ping uses. */
let marker = 2n ** 60n;

/** A short, bounded description of a request for failure reports. */
function describe_(m: SignalRequest['message']): string {
  const json = JSON.stringify(new SignalRequest({ message: m }).toJson(), (_k, v: unknown) =>
    typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v,
  );
  return (json ?? '').slice(0, 300);
}

/**
 * Sends one request, then a marker ping: the server handles a connection's requests in order, so
 * what came before the marker's pong is the request's answer (with whatever else the call sent).
 */
async function exchange(
  client: LiveKitTestClient,
  message: SignalRequest['message'],
): Promise<ServerMessage[]> {
  const from = client.messages.length;
  const value = marker++;
  client.send(message);
  client.send({ case: 'ping', value });
  await client.waitFor('pong', (v) => v === value, 15_000);
  return client.messages.slice(from).filter((m) => !(m.case === 'pong' && m.value === value));
}

/** Why a request's answer is not what the corpus demands (null: it is). */
function answerProblem(s: HostileSignal, replies: ServerMessage[]): string | null {
  const refusals = replies.flatMap((m) => (m.case === 'requestResponse' ? [m.value] : []));
  for (const r of refusals) {
    if (r.message === '') return 'request_response without a message';
    if (/internal/i.test(r.message)) return `internal error: ${r.message}`;
  }
  const refused = refusals.some((r) => r.reason !== RequestResponse_Reason.OK);
  const requestId = s.message.case === 'updateMetadata' ? s.message.value.requestId : undefined;
  if (refused && requestId !== undefined && !refusals.some((r) => r.requestId === requestId)) {
    return `refusal without the request_id ${requestId}`;
  }
  if (s.message.case === 'ping') {
    const value = s.message.value;
    return replies.some((m) => m.case === 'pong' && m.value === value) ? null : 'no pong';
  }
  if (s.expect === 'refused' && !refused) {
    return `not refused (got ${replies.map((m) => m.case).join(',') || 'nothing'})`;
  }
  if (s.expect === 'answered' && !refused && !replies.some((m) => s.replies.includes(m.case!))) {
    return `no ${s.replies.join('/')} and no refusal (got ${replies.map((m) => m.case).join(',') || 'nothing'})`;
  }
  return null;
}

describe('LiveKit hostile input (fuzzed SignalRequests, frames, tokens and data packets)', () => {
  const prefix = `lkfuzz:${randomBytes(4).toString('hex')}:`;
  const channel = `lkfuzz-${randomBytes(4).toString('hex')}`;
  const faults = FaultRecorder.install();
  const logs = new LogRecorder();
  let host: TestHostApp;
  const mm: TestClient[] = [];
  const clients: LiveKitTestClient[] = [];
  const media: LiveKitMediaPeer[] = [];
  let memberToken = '';
  let baseline: Record<string, unknown> = {};

  const token = (identity: string, room: string, grants: LiveKitGrantsInput = {}) =>
    mintLiveKitToken(KEY, { identity, room, grants, ttlSeconds: 600 });
  /** A LiveKit client of a demo user, joined (its `join` received). */
  const joinLk = async (name: string, grants: LiveKitGrantsInput = {}, room = channel) => {
    const { userId } = await host.login(name);
    const sessionId = randomBytes(13).toString('hex');
    const client = await LiveKitTestClient.connect(
      host.url,
      `${PATH}/rtc`,
      await token(`${userId}___${sessionId}`, room, grants),
    );
    clients.push(client);
    const join = await client.waitFor('join');
    return { client, userId, sessionId, join };
  };
  const snapshot = async (ch = channel) => {
    const { status, body } = await channelState(host, memberToken, ch);
    expect(status).toBe(200);
    return body;
  };
  /** LiveKit requests the server failed on itself (`result="error"`), by type. */
  const internalErrors = async (): Promise<Record<string, number>> => {
    const metrics = parsePrometheus((await host.http.get('/metrics').expect(200)).text);
    return Object.fromEntries(
      [...metrics].filter(
        ([k, v]) =>
          k.startsWith('calls_signaling_messages_total{type="livekit:') &&
          k.includes('result="error"') &&
          v > 0,
      ),
    );
  };
  const sessionIds = (state: Record<string, unknown>) =>
    ((state.call as { sessions?: { session_id: string }[] } | undefined)?.sessions ?? [])
      .map((s) => s.session_id)
      .sort();

  beforeAll(async () => {
    host = await TestHostApp.start(
      {
        RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
        RUSTCHAT_REDIS_URL: testRedisUrl(),
        RUSTCHAT_CALLS_REDIS_KEY_PREFIX: prefix,
        RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY.apiKey}:${KEY.apiSecret}`,
        RUSTCHAT_CALLS_WORKERS: '1',
        // The fuzz is about content, not volume (the rate limit is tested on its own).
        RUSTCHAT_CALLS_WS_RATE: String(WS_RATE),
        RUSTCHAT_CALLS_WS_BURST: String(WS_RATE),
        RUSTCHAT_CALLS_HTTP_RATE: '100000',
        RUSTCHAT_CALLS_HTTP_BURST: '100000',
        // Fuzzed sessions never answer server offers; keep them in the call for the whole run.
        RUSTCHAT_CALLS_SIGNALING_TIMEOUT_MS: '120000',
        RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '1000',
      },
      logs,
    );
    const member = await host.login('Fuzz Member');
    memberToken = member.token;
    const socket = await host.connect(member.token);
    mm.push(socket);
    expect(await socket.send('join', { channelID: channel })).toMatchObject({ ok: true });
    console.log(`LiveKit hostile input: seed=${SEED} (FUZZ_SEED reproduces the corpus)`);
  }, 30_000);

  afterEach(() => {
    expect(faults.describe()).toEqual([]);
    expect(logs.of('error')).toEqual([]);
  });

  afterAll(async () => {
    media.forEach((p) => p.close());
    clients.forEach((c) => c.close());
    await Promise.all(mm.map((c) => c.send('leave').catch(() => undefined)));
    mm.forEach((c) => c.close());
    await host?.close();
    faults.uninstall();
  });

  it(`${TOKENS} forged, damaged, expired and misshapen tokens are refused before anything is created; the token alone names the room`, async () => {
    const rng = new Rng(SEED ^ 0x70c3);
    const { userId } = await host.login('Fuzz Token');
    const room = `${channel}-tokens`;
    const identity = `${userId}___${randomBytes(13).toString('hex')}`;
    const valid = await token(identity, room);
    const claims = JSON.parse(Buffer.from(valid.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const joinsBefore = parsePrometheus((await host.http.get('/metrics')).text).get(
      'calls_joins_total',
    );
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    for (let i = 0; i < TOKENS; i++) {
      const { token: jwt, kind } = hostileToken(rng, KEY, valid, claims);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      // A header carries visible ASCII only (the client refuses anything else).
      const where = rng.chance(0.5) && /^[\x21-\x7e]*$/.test(jwt) ? 'header' : 'query';
      const outcome = await new Promise<string>((resolve) => {
        const ws = new WebSocket(
          `${host.url.replace(/^http/, 'ws')}${PATH}/rtc?${where === 'query' ? `access_token=${encodeURIComponent(jwt)}&` : ''}protocol=17`,
          where === 'header' ? { headers: { Authorization: `Bearer ${jwt}` } } : {},
        );
        ws.once('open', () => {
          ws.close();
          resolve('101 (connected)');
        });
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        });
        ws.once('error', (err) => resolve(`error ${err.message}`));
      });
      // 431: Node's HTTP parser refuses a request line or header over 16 KiB before any handler.
      if (!/^((401|403|404) \S|431 )/.test(outcome)) {
        failures.push(`${kind} (${where}) → ${outcome.slice(0, 120)}: ${jwt.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
    // Nothing joined, nothing was created.
    expect(parsePrometheus((await host.http.get('/metrics')).text).get('calls_joins_total')).toBe(
      joinsBefore,
    );
    expect(sessionIds(await snapshot(room))).toEqual([]);
    console.log(
      `hostile tokens: ${TOKENS}, kinds ${[...kinds].map(([k, n]) => `${k}=${n}`).join(', ')}`,
    );

    // The room is the token's: a `room` in the query names nothing, and the join is the token's room.
    const other = `${channel}-other`;
    const joined = await LiveKitTestClient.connect(
      host.url,
      `${PATH}/rtc`,
      valid,
      `room=${other}&name=${other}&auto_subscribe=1&sdk=js&protocol=17`,
    );
    clients.push(joined);
    expect((await joined.waitFor('join')).room?.name).toBe(room);
    expect(sessionIds(await snapshot(other))).toEqual([]);
    // Mattermost's token route gives no token for a session in another channel's call.
    const sessionId = identity.split('___')[1];
    const { token: userToken } = await host.login('Fuzz Token');
    for (const ch of [other, channel]) {
      const res = await host.http
        .get(`${CALLS_PATH}/livekit-token`)
        .query({ channel_id: ch, session_id: sessionId })
        .set('Authorization', `Bearer ${userToken}`);
      expect([ch, res.status]).toEqual([ch, 400]);
    }
    joined.send({
      case: 'leave',
      value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
    });
    await joined.closed;
    await until(
      async () => sessionIds(await snapshot(room)).length === 0,
      5000,
      'the token room empty',
    );
  }, 30_000);

  it(`${REQUESTS} fuzzed SignalRequests of every kind: a clear answer or refusal each, no internal error, no state change`, async () => {
    const { offer, candidates } = await captureRealOffer();
    const senders: {
      name: string;
      client: LiveKitTestClient;
      own: string[];
      mayPublish: (source: TrackSource) => boolean;
      canUpdateOwnMetadata: boolean;
    }[] = [];
    for (const [name, grants] of [
      ['Fuzz Full', { canUpdateOwnMetadata: true }],
      ['Fuzz Viewer', { canPublish: false, canPublishData: false }],
      ['Fuzz Mic Only', { canPublishSources: ['microphone'], canUpdateOwnMetadata: true }],
      ['Fuzz No Subscribe', { canSubscribe: false, canUpdateOwnMetadata: true }],
    ] as const) {
      const joined = await joinLk(name, grants);
      const own: string[] = [];
      joined.client.onMessage((m) => {
        if (m.case === 'trackPublished' && m.value.track) own.push(m.value.track.sid);
      });
      const permission = joined.join.participant!.permission!;
      senders.push({
        name,
        client: joined.client,
        own,
        mayPublish: (source: TrackSource) =>
          permission.canPublish &&
          (permission.canPublishSources.length === 0 ||
            permission.canPublishSources.includes(source)),
        canUpdateOwnMetadata: permission.canUpdateMetadata,
      });
    }
    baseline = await snapshot();
    expect(sessionIds(baseline)).toHaveLength(1 + senders.length);
    const errorsBefore = await internalErrors();
    const tally = new Map<string, { sent: number; refused: number }>();
    const failures: string[] = [];
    const started = Date.now();
    const perSender = Math.ceil(REQUESTS / senders.length);
    let sent = 0;
    const CHECKPOINT = 100;
    for (let done = 0; done < perSender; done += CHECKPOINT) {
      await Promise.all(
        senders.map(async (s, index) => {
          const ctx: LiveKitHostileContext = {
            rng: new Rng(SEED + index * 7919 + done),
            mayPublish: s.mayPublish,
            canUpdateOwnMetadata: s.canUpdateOwnMetadata,
            offer,
            candidates,
            ownTracks: s.own,
            foreignTracks: senders.filter((o) => o !== s).flatMap((o) => o.own),
          };
          for (let i = 0; i < Math.min(CHECKPOINT, perSender - done); i++) {
            const signal = hostileSignal(ctx);
            const t = tally.get(signal.kind) ?? { sent: 0, refused: 0 };
            tally.set(signal.kind, t);
            t.sent++;
            sent++;
            let replies: ServerMessage[];
            try {
              replies = await exchange(s.client, signal.message);
            } catch (err) {
              const closed = s.client.open ? '' : ' (connection closed)';
              failures.push(
                `${s.name}: ${(err as Error).message}${closed}: ${signal.kind} ${describe_(signal.message)}`,
              );
              return;
            }
            if (replies.some((m) => m.case === 'requestResponse')) t.refused++;
            const problem = answerProblem(signal, replies);
            if (problem)
              failures.push(`${s.name}: ${problem}: ${signal.kind} ${describe_(signal.message)}`);
          }
        }),
      );
      // Nothing the fuzz sent changed what anyone sees of the call.
      const now = await snapshot();
      if (JSON.stringify(now) !== JSON.stringify(baseline)) {
        failures.push(
          `state changed within requests ${done}..${done + CHECKPOINT} per sender: ${JSON.stringify(now)}`,
        );
        baseline = now;
      }
      expect({ count: failures.length, first: failures.slice(0, 20) }).toEqual({
        count: 0,
        first: [],
      });
    }
    const seconds = (Date.now() - started) / 1000;
    const byCase = new Map<string, { sent: number; refused: number }>();
    for (const [kind, t] of tally) {
      const c = kind.split(':')[0];
      const a = byCase.get(c) ?? { sent: 0, refused: 0 };
      a.sent += t.sent;
      a.refused += t.refused;
      byCase.set(c, a);
    }
    console.log(
      [
        `hostile SignalRequests: ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), seed=${SEED}`,
        `  by case (sent/refused): ${[...byCase].map(([k, a]) => `${k} ${a.sent}/${a.refused}`).join(', ')}`,
        `  kinds: ${tally.size}`,
      ].join('\n'),
    );
    expect(byCase.size).toBe(21);
    expect(senders.every((s) => s.client.open)).toBe(true);
    expect(await internalErrors()).toEqual(errorsBefore);
    expect(await snapshot()).toEqual(baseline);
    for (const s of senders) s.client.keepAlive();
  }, 120_000);

  it('requests sent before the join response are handled after it, in order', async () => {
    const { userId } = await host.login('Fuzz Early');
    const sessionId = randomBytes(13).toString('hex');
    const jwt = await token(`${userId}___${sessionId}`, channel, { canUpdateOwnMetadata: true });
    const client = await LiveKitTestClient.connect(host.url, `${PATH}/rtc`, jwt);
    clients.push(client);
    // At once, before the join response.
    const requests: SignalRequest['message'][] = [
      { case: 'ping', value: 1n },
      {
        case: 'addTrack',
        value: new AddTrackRequest({
          cid: 'early-cam',
          type: TrackType.VIDEO,
          source: TrackSource.CAMERA,
        }),
      },
      {
        case: 'updateMetadata',
        value: new UpdateParticipantMetadata({ name: 'Early Bird', requestId: 5 }),
      },
      { case: 'mute', value: new MuteTrackRequest({ sid: 'TR_nothing', muted: true }) },
      {
        case: 'trickle',
        value: new TrickleRequest({ candidateInit: '{', target: SignalTarget.PUBLISHER }),
      },
      { case: 'offer', value: new SessionDescription({ type: 'offer', sdp: 'v=0', id: 1 }) },
    ];
    for (const message of requests.slice(0, -1)) client.send(message);
    const replies = await exchange(client, requests.at(-1)!);
    expect(client.messages[0].case).toBe('join');
    const kinds = replies.map((m) =>
      m.case === 'requestResponse' ? `refused:${m.value.request.case ?? '-'}` : m.case,
    );
    // In order: the pong, the track, the metadata (an update of itself), then the three refusals.
    expect(kinds.filter((k) => k !== 'update' && k !== 'join')).toEqual([
      'pong',
      'trackPublished',
      'refused:mute',
      'refused:trickle',
      'refused:-',
    ]);
    expect(replies.find((m) => m.case === 'trackPublished')?.value).toMatchObject({
      cid: 'early-cam',
    });
    await client.waitFor('update', (u) => u.participants.some((p) => p.name === 'Early Bird'));
    client.send({
      case: 'leave',
      value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
    });
    expect((await client.closed).code).toBe(1000);
    await until(
      async () => JSON.stringify(await snapshot()) === JSON.stringify(baseline),
      5000,
      'the call as before',
    );
  });

  it(`${FRAMES} hostile frames (random, truncated, bit-flipped, text, oversized) close only their own connection, with a reason`, async () => {
    const rng = new Rng(SEED ^ 0xf4a3e);
    const room = `${channel}-frames`;
    const errorsBefore = await internalErrors();
    const { offer, candidates } = await captureRealOffer();
    const ctx: LiveKitHostileContext = {
      rng,
      mayPublish: () => false,
      canUpdateOwnMetadata: false,
      offer,
      candidates,
      ownTracks: [],
      foreignTracks: [],
    };
    const valid = () => new SignalRequest({ message: hostileSignal(ctx).message }).toBinary();
    const frames: HostileFrame[] = Array.from({ length: FRAMES }, () => hostileFrame(rng, valid));
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    const lane = async (queue: HostileFrame[]) => {
      let current: LiveKitTestClient | null = null;
      for (let f = queue.shift(); f; f = queue.shift()) {
        // Throwaway participants that may do nothing but join and leave.
        current ??= (
          await joinLk('Fuzz Framer', { canPublish: false, canPublishData: false }, room)
        ).client;
        const client: LiveKitTestClient = current;
        client.socket.send(f.data, { binary: f.binary });
        const what = `${f.kind} (${f.data.byteLength} bytes${f.binary ? '' : ', text'})`;
        if (f.expect === 'open') {
          try {
            await exchange(client, { case: 'ping', value: 0n });
          } catch {
            failures.push(
              `${what}: closed ${JSON.stringify(await client.closed)}, expected to stay open`,
            );
            current = null;
          }
          outcomes.set('open', (outcomes.get('open') ?? 0) + 1);
          continue;
        }
        const closed = await Promise.race([client.closed, sleep(5000).then(() => null)]);
        const { close: code, reason } =
          f.expect === 'leave' ? { close: 1000, reason: true } : f.expect;
        if (closed === null) failures.push(`${what}: still open, expected close ${code}`);
        else if (closed.code !== code || (reason && closed.reason === '')) {
          failures.push(
            `${what}: closed ${JSON.stringify(closed)}, expected ${code}${reason ? ' with a reason' : ''}`,
          );
        }
        outcomes.set(String(code), (outcomes.get(String(code)) ?? 0) + 1);
        current = null;
      }
      if (current) {
        current.send({ case: 'leave', value: new LeaveRequest({}) });
        await current.closed;
      }
    };
    const queues: HostileFrame[][] = [[], [], [], []];
    frames.forEach((f, i) => queues[i % queues.length].push(f));
    await Promise.all(queues.map(lane));
    console.log(
      `hostile frames: ${FRAMES}, outcomes ${[...outcomes].map(([k, n]) => `${k}=${n}`).join(', ')}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    // Their sessions leave after the reconnect grace (1 s); the fuzzed call is as it was.
    await until(
      async () => sessionIds(await snapshot(room)).length === 0,
      10_000,
      'the framers gone',
    );
    expect(await snapshot()).toEqual(baseline);
    expect(await internalErrors()).toEqual(errorsBefore);
  }, 60_000);

  it("fuzzed leave requests end only their sender's session", async () => {
    const rng = new Rng(SEED ^ 0x1ea7e);
    for (let i = 0; i < 5; i++) {
      const { client, sessionId } = await joinLk(`Fuzz Leaver ${i}`, { canPublish: false });
      expect(sessionIds(await snapshot())).toContain(sessionId);
      client.send({ case: 'leave', value: fuzzMessage(rng, LeaveRequest) });
      expect((await client.closed).code).toBe(1000);
      await until(
        async () => !sessionIds(await snapshot()).includes(sessionId),
        5000,
        'the leaver gone',
      );
    }
    expect(await snapshot()).toEqual(baseline);
  });

  it(`the per-connection rate limit applies (${WS_RATE}/s here): a flood over it is closed, rate limited; the others go on`, async () => {
    const { client } = await joinLk('Fuzz Flood', { canPublish: false });
    for (let i = 0; i < WS_RATE * 2; i++) client.send({ case: 'ping', value: BigInt(i) });
    expect(await client.closed).toEqual({ code: 1008, reason: 'rate limited' });
    const metrics = parsePrometheus((await host.http.get('/metrics')).text);
    expect(
      metrics.get('calls_signaling_messages_total{type="livekit:frame",result="rate_limited"}'),
    ).toBeGreaterThan(0);
    for (const other of clients.filter((c) => c.open)) {
      expect(await exchange(other, { case: 'ping', value: 3n })).toContainEqual({
        case: 'pong',
        value: 3n,
      });
    }
  });
});
