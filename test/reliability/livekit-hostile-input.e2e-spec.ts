import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AddTrackRequest,
  DisconnectReason,
  LeaveRequest,
  MuteTrackRequest,
  SessionDescription,
  SignalRequest,
  SignalTarget,
  TrackSource,
  TrackType,
  TrickleRequest,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import { testRedisUrl } from '@app/calls/testing';
import { CALLS_PATH, channelState, releaseCounts, until } from '../support/calls-probe';
import { FaultRecorder } from '../support/fault-recorder';
import { fuzzSeed, Rng } from '../support/fuzz';
import type { TestClient } from '../support/host-app';
import { hostileFrame, type HostileFrame } from '../support/livekit-hostile-frames';
import { hostileSignal } from '../support/livekit-hostile-signals';
import { describeFuzzReport, fuzzSender, fuzzSignals } from '../support/livekit-signal-fuzzer';
import { UpgradeRefused, type LiveKitTestClient } from '../support/livekit-test-client';
import { LiveKitTestHost } from '../support/livekit-test-host';
import { hostileToken } from '../support/livekit-tokens-hostile';
import { fuzzMessage } from '../support/protobuf-fuzz';
import { captureRealOffer } from '../support/real-offer';

const REQUESTS = Number(process.env.FUZZ_LIVEKIT_REQUESTS ?? 1500);
const FRAMES = Number(process.env.FUZZ_LIVEKIT_FRAMES ?? 120);
const TOKENS = Number(process.env.FUZZ_LIVEKIT_TOKENS ?? 80);
const SEED = fuzzSeed(20261207);
/** The per-connection signal rate this host allows (messages per second, and the burst). */
const WS_RATE = 3000;

/**
 * The LiveKit endpoint under hostile input (the socket.io side: hostile-input.e2e-spec.ts), on
 * one host with real Redis and real mediasoup: forged tokens, fuzzed `SignalRequest`s of every
 * case, frames that are no requests, fuzzed leaves, a flood. Each gets a clear answer (a
 * `request_response`, an HTTP refusal, a close with a reason), nothing fails inside the server
 * (no `result="error"`, nothing logged as an error, no unhandled rejection), the call's state is
 * as before, and afterwards a real call in the fuzzed room works.
 */
/** A channel state with the `video` flag of the sessions of `users` left out. */
function withoutOwnCameras(
  state: Record<string, unknown>,
  users: ReadonlySet<string>,
): Record<string, unknown> {
  const call = state.call as { sessions?: Record<string, unknown>[] } | undefined;
  if (!call?.sessions) return state;
  const sessions = call.sessions.map((session) => {
    if (!users.has(session.user_id as string)) return session;
    const { video: _video, ...rest } = session;
    return rest;
  });
  return { ...state, call: { ...call, sessions } };
}

describe('LiveKit hostile input (tokens, fuzzed SignalRequests, frames, floods)', () => {
  const channel = `lkfuzz-${randomBytes(4).toString('hex')}`;
  const faults = FaultRecorder.install();
  let lk: LiveKitTestHost;
  let member: TestClient;
  let memberToken = '';
  let baseline: Record<string, unknown> = {};
  const fuzzers: LiveKitTestClient[] = [];

  const snapshot = async (ch = channel) => {
    const { status, body } = await channelState(lk.host, memberToken, ch);
    expect(status).toBe(200);
    return body;
  };
  const sessionIds = (state: Record<string, unknown>) =>
    ((state.call as { sessions?: { session_id: string }[] } | undefined)?.sessions ?? [])
      .map((s) => s.session_id)
      .sort();
  const backToBaseline = () =>
    until(
      async () => JSON.stringify(await snapshot()) === JSON.stringify(baseline),
      5000,
      'the call as before',
    );

  beforeAll(async () => {
    lk = await LiveKitTestHost.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
      RUSTCHAT_REDIS_URL: testRedisUrl(),
      RUSTCHAT_CALLS_REDIS_KEY_PREFIX: `lkfuzz:${randomBytes(4).toString('hex')}:`,
      RUSTCHAT_CALLS_WORKERS: '1',
      // The fuzz is about content, not volume (the flood test shows the limit holds).
      RUSTCHAT_CALLS_WS_RATE: String(WS_RATE),
      RUSTCHAT_CALLS_WS_BURST: String(WS_RATE),
      RUSTCHAT_CALLS_HTTP_RATE: '100000',
      RUSTCHAT_CALLS_HTTP_BURST: '100000',
      // Fuzzed sessions never answer server offers; keep them in the call for the whole run.
      RUSTCHAT_CALLS_SIGNALING_TIMEOUT_MS: '120000',
      RUSTCHAT_CALLS_RECONNECT_GRACE_MS: '1000',
    });
    // A Mattermost participant in the fuzzed call too (its token reads the call's state).
    const login = await lk.host.login('Fuzz Member');
    memberToken = login.token;
    member = await lk.host.connect(memberToken);
    expect(await member.send('join', { channelID: channel })).toMatchObject({ ok: true });
    console.log(`LiveKit hostile input: seed=${SEED} (FUZZ_SEED reproduces the corpus)`);
  }, 30_000);

  afterEach(() => {
    expect(faults.describe()).toEqual([]);
    expect(lk.logs.of('error')).toEqual([]);
  });

  afterAll(async () => {
    await member?.send('leave').catch(() => undefined);
    member?.close();
    await lk?.close();
    faults.uninstall();
  });

  it(`${TOKENS} forged, damaged, expired and misshapen tokens are refused before anything is created; the token alone names the room`, async () => {
    const rng = new Rng(SEED ^ 0x70c3);
    const { userId } = await lk.host.login('Fuzz Token');
    const room = `${channel}-tokens`;
    const identity = `${userId}___${randomBytes(13).toString('hex')}`;
    const valid = await lk.token(identity, room);
    const claims = JSON.parse(Buffer.from(valid.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const joinsBefore = (await lk.metrics()).get('calls_joins_total');
    const objectsBefore = await releaseCounts(lk.host);
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    for (let i = 0; i < TOKENS; i++) {
      const { token, kind } = hostileToken(rng, lk.key, valid, claims);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      // A header carries visible ASCII only (the client refuses anything else).
      const where = rng.chance(0.5) && /^[\x21-\x7e]*$/.test(token) ? 'header' : 'query';
      const outcome = await lk
        .connect(
          where === 'query' ? token : null,
          'protocol=17',
          where === 'header' ? { Authorization: `Bearer ${token}` } : {},
        )
        .then(
          () => '101 (connected)',
          (err: unknown) =>
            err instanceof UpgradeRefused ? `${err.status} ${err.body}` : String(err),
        );
      // 431: Node's HTTP parser refuses a request line or header over 16 KiB before any handler.
      if (!/^((401|403|404) \S|431 )/.test(outcome)) {
        failures.push(`${kind} (${where}) → ${outcome.slice(0, 120)}: ${token.slice(0, 80)}`);
      }
    }
    console.log(`hostile tokens: ${[...kinds].map(([k, n]) => `${k}=${n}`).join(', ')}`);
    expect(failures).toEqual([]);
    // Nothing joined, nothing was created (no session, no call, no media object).
    expect((await lk.metrics()).get('calls_joins_total')).toBe(joinsBefore);
    expect(await releaseCounts(lk.host)).toEqual(objectsBefore);
    expect(sessionIds(await snapshot(room))).toEqual([]);

    // The room is the token's: a `room` in the query names nothing.
    const other = `${channel}-other`;
    const joined = await lk.connect(valid, `room=${other}&name=${other}&sdk=js&protocol=17`);
    expect((await joined.waitFor('join')).room?.name).toBe(room);
    expect(sessionIds(await snapshot(other))).toEqual([]);
    // Mattermost's token route gives no token for that session in another channel's call.
    const sessionId = identity.split('___')[1];
    const { token: userToken } = await lk.host.login('Fuzz Token');
    for (const ch of [other, channel]) {
      const res = await lk.host.http
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
    await until(async () => sessionIds(await snapshot(room)).length === 0, 5000, 'the room empty');
  }, 30_000);

  it(`${REQUESTS} fuzzed SignalRequests of every case: a clear answer or refusal each, no internal error, no state change`, async () => {
    const { offer, candidates } = await captureRealOffer();
    const senders = [];
    for (const [name, grants] of [
      ['Fuzz Full', { canUpdateOwnMetadata: true }],
      ['Fuzz Viewer', { canPublish: false, canPublishData: false }],
      ['Fuzz Mic Only', { canPublishSources: ['microphone'], canUpdateOwnMetadata: true }],
      ['Fuzz No Subscribe', { canSubscribe: false, canUpdateOwnMetadata: true }],
    ] as const) {
      const sender = fuzzSender(name, await lk.join(name, channel, grants));
      fuzzers.push(sender.participant.client);
      senders.push(sender);
    }
    baseline = await snapshot();
    expect(sessionIds(baseline)).toHaveLength(1 + senders.length);
    const cameraUsers = new Set(
      senders
        .filter((s) => s.mayPublish(TrackSource.CAMERA))
        .map((s) => s.participant.join.participant!.identity.split('___')[0]),
    );
    const errorsBefore = await lk.internalErrors();

    const report = await fuzzSignals({
      senders,
      requests: REQUESTS,
      seed: SEED,
      offer,
      candidates,
      // Nothing the fuzz sent changed what anyone sees of the call, but what a sender may change
      // of itself: a valid camera announcement (`add_track`, source CAMERA) of a sender allowed
      // to publish one turns its `video` on, as Mattermost's `video_on` does.
      checkpoint: async () => {
        const now = await snapshot();
        const same =
          JSON.stringify(withoutOwnCameras(now, cameraUsers)) ===
          JSON.stringify(withoutOwnCameras(baseline, cameraUsers));
        baseline = now;
        return same ? null : `state changed: ${JSON.stringify(now)}`;
      },
    });

    console.log(describeFuzzReport(report, SEED));
    expect({ count: report.failures.length, first: report.failures.slice(0, 20) }).toEqual({
      count: 0,
      first: [],
    });
    // Every case but `leave` (fuzzed on its own below).
    expect(report.byCase.size).toBe(SignalRequest.fields.list().filter((f) => f.oneof).length - 1);
    expect(fuzzers.every((c) => c.open)).toBe(true);
    expect(await lk.internalErrors()).toEqual(errorsBefore);
    expect(lk.liveKitLogs()).toEqual([]);
    fuzzers.forEach((c) => c.keepAlive());
  }, 120_000);

  it('requests sent before the join response are handled after it, in order', async () => {
    const { userId } = await lk.host.login('Fuzz Early');
    const sessionId = randomBytes(13).toString('hex');
    const client = await lk.connect(
      await lk.token(`${userId}___${sessionId}`, channel, { canUpdateOwnMetadata: true }),
    );
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
    ];
    for (const message of requests) client.send(message);
    const replies = await client.request({
      case: 'offer',
      value: new SessionDescription({ type: 'offer', sdp: 'v=0', id: 1 }),
    });
    expect(client.messages[0].case).toBe('join');
    const kinds = replies.map((m) =>
      m.case === 'requestResponse' ? `refused:${m.value.request.case ?? '-'}` : m.case,
    );
    // In order: the pong, the track, the metadata (an update of itself), the three refusals.
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
    client.send({ case: 'leave', value: new LeaveRequest({}) });
    expect((await client.closed).code).toBe(1000);
    await backToBaseline();
  });

  it(`${FRAMES} hostile frames (random, truncated, bit-flipped, text, oversized) close only their own connection, with a reason`, async () => {
    const rng = new Rng(SEED ^ 0xf4a3e);
    const room = `${channel}-frames`;
    const errorsBefore = await lk.internalErrors();
    const { offer, candidates } = await captureRealOffer();
    const ctx = {
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
          await lk.join('Fuzz Framer', room, { canPublish: false, canPublishData: false })
        ).client;
        const client: LiveKitTestClient = current;
        client.socket.send(f.data, { binary: f.binary });
        const what = `${f.kind} (${f.data.byteLength} bytes${f.binary ? '' : ', text'})`;
        const expected = f.expect === 'leave' ? { close: 1000, reason: true } : f.expect;
        const outcome = expected === 'open' ? 'open' : String(expected.close);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (expected === 'open') {
          await client.request({ case: 'ping', value: 0n }).catch(async () => {
            failures.push(`${what}: closed ${JSON.stringify(await client.closed)}, not open`);
            current = null;
          });
          continue;
        }
        current = null;
        const closed = await Promise.race([client.closed, sleep(5000).then(() => null)]);
        if (
          closed === null ||
          closed.code !== expected.close ||
          (expected.reason && closed.reason === '')
        ) {
          failures.push(
            `${what}: ${JSON.stringify(closed) ?? 'still open'}, expected close ${expected.close}${expected.reason ? ' with a reason' : ''}`,
          );
        }
      }
      if (current) {
        current.send({ case: 'leave', value: new LeaveRequest({}) });
        await current.closed;
      }
    };
    const queues: HostileFrame[][] = [[], [], [], []];
    frames.forEach((f, i) => queues[i % queues.length].push(f));
    await Promise.all(queues.map(lane));
    console.log(`hostile frames: ${[...outcomes].map(([k, n]) => `${k}=${n}`).join(', ')}`);
    expect(failures.slice(0, 20)).toEqual([]);
    // Their sessions leave after the reconnect grace (1 s); the fuzzed call is as it was.
    await until(
      async () => sessionIds(await snapshot(room)).length === 0,
      10_000,
      'the framers gone',
    );
    expect(await snapshot()).toEqual(baseline);
    expect(await lk.internalErrors()).toEqual(errorsBefore);
  }, 60_000);

  it("fuzzed leave requests end only their sender's session", async () => {
    const rng = new Rng(SEED ^ 0x1ea7e);
    for (let i = 0; i < 5; i++) {
      const { client, sessionId } = await lk.join(`Fuzz Leaver ${i}`, channel, {
        canPublish: false,
      });
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
    const before = await lk.results('frame');
    const { client } = await lk.join('Fuzz Flood', channel, { canPublish: false });
    for (let i = 0; i < WS_RATE * 2; i++) client.send({ case: 'ping', value: BigInt(i) });
    expect(await client.closed).toEqual({ code: 1008, reason: 'rate limited' });
    expect((await lk.results('frame')).rate_limited).toBe((before.rate_limited ?? 0) + 1);
    // Its session leaves after the grace; the fuzzers still get answers.
    await backToBaseline();
    for (const other of fuzzers) {
      expect(await other.request({ case: 'ping', value: 3n })).toContainEqual({
        case: 'pong',
        value: 3n,
      });
    }
  });

  it('afterwards a real call in the fuzzed room works: two LiveKit clients with real WebRTC hear each other', async () => {
    const alice = await lk.joinWithMedia('Fuzz Alice', channel);
    const bob = await lk.joinWithMedia('Fuzz Bob', channel);
    await alice.peer.publishTone(440);
    await bob.peer.publishTone(660);
    await Promise.all([alice.peer.waitConnected(), bob.peer.waitConnected()]);
    await Promise.all([
      alice.peer.waitHearing(660, [440, 660]),
      bob.peer.waitHearing(440, [440, 660]),
    ]);
    for (const p of [alice, bob]) {
      expect(await p.peer.audioStreams()).toHaveLength(1);
      expect(p.peer.errors).toEqual([]);
    }
    // The call's state shows them, unmuted; everyone else as before.
    const sessions = (
      (await snapshot()).call as { sessions: { session_id: string; unmuted: boolean }[] }
    ).sessions;
    const ids = (unmuted: boolean) =>
      sessions
        .filter((s) => s.unmuted === unmuted)
        .map((s) => s.session_id)
        .sort();
    expect(ids(true)).toEqual([alice.sessionId, bob.sessionId].sort());
    expect(ids(false)).toEqual(sessionIds(baseline));
    expect(await lk.internalErrors()).toEqual({});
    expect(lk.liveKitLogs()).toEqual([]);
  }, 45_000);
});
