import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActiveSpeakerUpdate,
  AddTrackRequest,
  DataPacket,
  DataPacket_Kind,
  MuteTrackRequest,
  RequestResponse_Reason,
  type SignalRequest,
  SpeakerInfo,
  TrackSource,
  TrackType,
  UpdateParticipantMetadata,
  UserPacket,
} from '@livekit/protocol';
import { channelState, until } from '../support/calls-probe';
import { FaultRecorder } from '../support/fault-recorder';
import { fuzzSeed, Rng } from '../support/fuzz';
import type { TestClient } from '../support/host-app';
import type { ServerMessage } from '../support/livekit-test-client';
import { grew, LiveKitTestHost, type LiveKitMediaParticipant } from '../support/livekit-test-host';
import { fuzzMessage } from '../support/protobuf-fuzz';

const SEED = fuzzSeed(20261207);
const TONES = [440, 660, 880];

/** The `request_response` among a request's replies. */
const refusalIn = (replies: ServerMessage[]) =>
  replies.find((m) => m.case === 'requestResponse')?.value;

/**
 * What a LiveKit participant may not do, with real WebRTC: speak for another on data packets
 * (the server stamps the sender, honours destinations, drops what only a server sends, garbage
 * and oversized packets, and floods over the rate), publish without the grant (its media is
 * forwarded to nobody), publish a source it was not granted, change its hand without the
 * metadata grant, mute another's track. The socket.io side: permissions.e2e-spec.ts.
 */
describe('LiveKit permissions: data packets, publishing, metadata, others’ tracks', () => {
  const channel = `lkperm-${randomBytes(4).toString('hex')}`;
  const faults = FaultRecorder.install();
  let lk: LiveKitTestHost;
  let member: TestClient;
  let memberToken = '';
  let alice: LiveKitMediaParticipant;
  let bob: LiveKitMediaParticipant;
  let aliceMic = '';

  const sessions = async () => {
    const { body } = await channelState(lk.host, memberToken, channel);
    return (
      body.call as {
        sessions: { session_id: string; unmuted: boolean; raised_hand: number }[];
      }
    ).sessions;
  };
  const unmutedSessions = async () =>
    (await sessions())
      .filter((s) => s.unmuted)
      .map((s) => s.session_id)
      .sort();

  beforeAll(async () => {
    lk = await LiveKitTestHost.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_HTTP_BURST: '1000',
    });
    const login = await lk.host.login('Perm Member');
    memberToken = login.token;
    member = await lk.host.connect(memberToken);
    expect(await member.send('join', { channelID: channel })).toMatchObject({ ok: true });
    alice = await lk.joinWithMedia('Perm Alice', channel);
    bob = await lk.joinWithMedia('Perm Bob', channel);
    aliceMic = await alice.peer.publishTone(440);
    await bob.peer.publishTone(660);
    await Promise.all([alice.peer.waitConnected(), bob.peer.waitConnected()]);
    await Promise.all([alice.peer.waitHearing(660, TONES), bob.peer.waitHearing(440, TONES)]);
    console.log(`LiveKit permissions: seed=${SEED} (FUZZ_SEED reproduces the fuzzed packets)`);
  }, 45_000);

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

  it('data packets: the server stamps the sender and honours destinations; spoofed, server-only, malformed, oversized and fuzzed packets never pass as another; the rate limit applies', async () => {
    const rng = new Rng(SEED ^ 0xda7a);
    const mallory = await lk.joinWithMedia('Perm Mallory', channel);
    await mallory.peer.waitConnected();
    const before = await lk.results('data');
    const sent = new Map<number, DataPacket>();
    let sequence = 1000;
    const send = async (packet: DataPacket, label: '_reliable' | '_lossy' = '_reliable') => {
      packet.sequence = ++sequence;
      sent.set(packet.sequence, packet);
      await mallory.peer.sendData(label, packet.toBinary());
    };
    const user = (payload: string, fields: Partial<UserPacket> = {}) =>
      new UserPacket({ payload: new TextEncoder().encode(payload), topic: 'chat', ...fields });
    const as = (p: LiveKitMediaParticipant) => ({
      participantIdentity: p.identity,
      participantSid: p.sid,
    });
    // For Alice, to Bob; for Bob, to Alice (the user packet's own destinations); as the server.
    await send(
      new DataPacket({
        kind: DataPacket_Kind.RELIABLE,
        ...as(alice),
        destinationIdentities: [bob.identity],
        value: { case: 'user', value: user('as-alice-to-bob', as(alice)) },
      }),
    );
    await send(
      new DataPacket({
        ...as(bob),
        value: {
          case: 'user',
          value: user('as-bob-to-alice', { ...as(bob), destinationIdentities: [alice.identity] }),
        },
      }),
    );
    await send(new DataPacket({ value: { case: 'user', value: user('as-server') } }));
    // Only the server speaks of speakers; a packet of nothing is nothing.
    await send(
      new DataPacket({
        value: {
          case: 'speaker',
          value: new ActiveSpeakerUpdate({
            speakers: [new SpeakerInfo({ sid: alice.sid, level: 1, active: true })],
          }),
        },
      }),
    );
    await send(new DataPacket({ ...as(alice) }));
    // Over 64 KiB; not a DataPacket at all.
    const big = new DataPacket({ value: { case: 'user', value: user('x'.repeat(66 * 1024)) } });
    await mallory.peer.sendData('_reliable', big.toBinary());
    await mallory.peer.sendData('_reliable', rng.bytes(300));
    // Fuzzed packets of every kind (the generated type's fields), some spoofed, some aimed.
    for (let i = 0; i < 120; i++) {
      const packet = fuzzMessage(rng, DataPacket, 0, { maxBytes: 256, maxElements: 3 });
      if (rng.chance(0.3)) Object.assign(packet, as(rng.pick([alice, bob])));
      if (rng.chance(0.2)) packet.destinationIdentities = [rng.pick([alice, bob]).identity];
      await send(packet, rng.chance(0.2) ? '_lossy' : '_reliable');
    }
    await send(new DataPacket({ value: { case: 'user', value: user('end') } }));
    const end = sequence;
    const got = (p: LiveKitMediaParticipant) =>
      [...p.peer.received('_reliable'), ...p.peer.received('_lossy')].map((b) =>
        DataPacket.fromBinary(b),
      );
    const payloadOf = (d: DataPacket) =>
      d.value.case === 'user' ? new TextDecoder().decode(d.value.value.payload) : '';
    await until(
      () => [alice, bob].every((p) => got(p).some((d) => d.sequence === end)),
      10_000,
      'the end packet at Alice and Bob',
    );

    const failures: string[] = [];
    for (const p of [alice, bob]) {
      for (const d of got(p)) {
        const what = `${p.identity} got ${d.value.case ?? 'nothing'} #${d.sequence}`;
        const user = d.value.case === 'user' ? d.value.value : null;
        const stamped =
          d.participantIdentity === mallory.identity &&
          d.participantSid === mallory.sid &&
          (!user ||
            (user.participantIdentity === mallory.identity && user.participantSid === mallory.sid));
        if (!stamped) failures.push(`${what} not from Mallory: ${JSON.stringify(d.toJson())}`);
        if (d.value.case === 'speaker' || d.value.case === undefined) {
          failures.push(`${what}: not forwardable`);
        }
        const original = sent.get(d.sequence);
        if (!original) {
          // Only the core's reaction packets are the server's own.
          if (user?.topic !== 'reaction') failures.push(`${what}: never sent`);
          continue;
        }
        const named = [
          ...original.destinationIdentities,
          ...(original.value.case === 'user' ? original.value.value.destinationIdentities : []),
        ];
        if (named.length > 0 && !named.includes(p.identity)) {
          failures.push(`${what}: for ${named.join(',')}`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    const payloads = (p: LiveKitMediaParticipant) => got(p).map(payloadOf);
    expect(payloads(bob)).toContain('as-alice-to-bob');
    expect(payloads(alice)).not.toContain('as-alice-to-bob');
    expect(payloads(alice)).toContain('as-bob-to-alice');
    expect(payloads(bob)).not.toContain('as-bob-to-alice');
    expect(payloads(alice)).toContain('as-server');
    expect(payloads(bob)).toContain('as-server');
    expect([...payloads(alice), ...payloads(bob)].some((x) => x.length > 60_000)).toBe(false);
    const after = await lk.results('data');
    // Counted as dropped: the speaker packet and the empty one, the oversized one, the random bytes.
    expect(grew(after, before, 'not-forwarded')).toBeGreaterThanOrEqual(2);
    expect(grew(after, before, 'oversized')).toBe(1);
    expect(grew(after, before, 'malformed')).toBeGreaterThanOrEqual(1);

    // A flood, Mallory's bucket full again: a burst of 200 and 100 per second pass, no more.
    await sleep(2100);
    const FLOOD = 600;
    const started = Date.now();
    const floodStart = sequence;
    const flood = new DataPacket({ value: { case: 'user', value: user('flood') } }).toBinary();
    for (let i = 0; i < FLOOD; i++) await mallory.peer.sendData('_reliable', flood);
    // Its end is resent until one passes (the flood emptied the bucket).
    await until(
      async () => {
        await send(new DataPacket({ value: { case: 'user', value: user('end') } }));
        await sleep(200);
        return got(bob).some((d) => d.sequence > floodStart && payloadOf(d) === 'end');
      },
      10_000,
      'the end of the flood at Bob',
    );
    const seconds = (Date.now() - started) / 1000;
    const forwarded = got(bob).filter((d) => payloadOf(d) === 'flood').length;
    console.log(`data flood: ${FLOOD} sent, ${forwarded} forwarded in ${seconds.toFixed(2)} s`);
    expect(forwarded).toBeGreaterThanOrEqual(200);
    expect(forwarded).toBeLessThanOrEqual(200 + Math.ceil(100 * seconds) + 5);
    expect(grew(await lk.results('data'), after, 'rate_limited')).toBeGreaterThan(0);
    expect(mallory.peer.errors).toEqual([]);
  }, 45_000);

  it('a subscribe-only participant cannot publish: add_track is refused, its voice and data go nowhere', async () => {
    const sam = await lk.joinWithMedia('Perm Sam', channel, {
      canPublish: false,
      canPublishData: false,
    });
    const cid = sam.peer.publisher.addTone(880).track!.id;
    const replies = await sam.client.request({
      case: 'addTrack',
      value: new AddTrackRequest({ cid, type: TrackType.AUDIO, source: TrackSource.MICROPHONE }),
    });
    expect(refusalIn(replies)).toMatchObject({
      reason: RequestResponse_Reason.NOT_ALLOWED,
      request: { case: 'addTrack' },
    });
    // It receives the call, and sends its tone to the server, which forwards it to nobody.
    await sam.peer.waitConnected();
    await Promise.all([sam.peer.waitHearing(440, TONES), sam.peer.waitHearing(660, TONES)]);
    await until(
      async () => (await sam.peer.publisher.sentAudioPackets()) > 100,
      10_000,
      'Sam sending RTP',
    );
    for (const p of [alice, bob]) p.peer.subscriber.resetAudio();
    await Promise.all([alice.peer.waitHearing(660, TONES), bob.peer.waitHearing(440, TONES)]);
    for (const p of [alice, bob]) {
      expect(await p.peer.audioStreams()).toHaveLength(1);
      expect(p.peer.subscriber.heardTones(TONES, 0.3).map((h) => h.frequencyHz)).not.toContain(880);
    }
    const before = await lk.results('data');
    const packet = new DataPacket({
      value: { case: 'user', value: new UserPacket({ payload: new Uint8Array([1]) }) },
    });
    await sam.peer.sendData('_reliable', packet.toBinary());
    await until(
      async () => grew(await lk.results('data'), before, 'refused') === 1,
      5000,
      "Sam's packet refused",
    );
    expect(await unmutedSessions()).toEqual([alice.sessionId, bob.sessionId].sort());
    expect(sam.peer.errors).toEqual([]);
  }, 45_000);

  it('only granted sources are published; no hand without the metadata grant; nobody mutes another’s track', async () => {
    const mic = await lk.join('Perm Mic Only', channel, { canPublishSources: ['microphone'] });
    const request = (message: SignalRequest['message']) => mic.client.request(message);
    for (const source of [TrackSource.CAMERA, TrackSource.SCREEN_SHARE]) {
      const replies = await request({
        case: 'addTrack',
        value: new AddTrackRequest({ cid: `c-${source}`, type: TrackType.VIDEO, source }),
      });
      expect([source, refusalIn(replies)?.reason]).toEqual([
        source,
        RequestResponse_Reason.NOT_ALLOWED,
      ]);
    }
    const ok = await request({
      case: 'addTrack',
      value: new AddTrackRequest({
        cid: 'c-mic',
        type: TrackType.AUDIO,
        source: TrackSource.MICROPHONE,
        muted: true,
      }),
    });
    expect(ok.find((m) => m.case === 'trackPublished')).toBeDefined();
    // Raising its hand without canUpdateOwnMetadata: refused with the request's id, no hand.
    const hand = await request({
      case: 'updateMetadata',
      value: new UpdateParticipantMetadata({ attributes: { raised_hand: '1' }, requestId: 9 }),
    });
    expect(refusalIn(hand)).toMatchObject({
      requestId: 9,
      reason: RequestResponse_Reason.NOT_ALLOWED,
    });
    // Muting (or unmuting) Alice's microphone by its sid: not its track.
    for (const muted of [true, false]) {
      const replies = await request({
        case: 'mute',
        value: new MuteTrackRequest({ sid: aliceMic, muted }),
      });
      expect(refusalIn(replies)?.reason).toBe(RequestResponse_Reason.NOT_FOUND);
    }
    const state = await sessions();
    expect(state.find((s) => s.session_id === mic.sessionId)?.raised_hand).toBe(0);
    expect(await unmutedSessions()).toEqual([alice.sessionId, bob.sessionId].sort());
    // Bob still hears Alice.
    bob.peer.subscriber.resetAudio();
    await bob.peer.waitHearing(440, TONES);
    expect(await lk.internalErrors()).toEqual({});
    expect(lk.liveKitLogs()).toEqual([]);
  });
});
