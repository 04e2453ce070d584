/**
 * The bare baseline of the join benchmarks: what a join needs, written directly on socket.io,
 * mediasoup and ioredis, without the calls module (no Nest, no pipes, no core, no state
 * repository). It speaks just enough of the Mattermost calls protocol for {@link
 * WeriftParticipant} (`hello`, acknowledged `join`/`sdp`/`ice`/`unmute`/`metric`, `signal`
 * events with the answer, the server's candidate and its offers) and builds the same mediasoup
 * objects as the module per session: a WebRtcTransport with SCTP, two data streams relayed through a
 * DirectTransport (four data producers/consumers each), a paused producer per speaker (resumed by
 * `unmute`, watched by an AudioLevelObserver), a paused consumer of every speaker per other session
 * (resumed once its client answered the server's offer). Per join it also writes the call's
 * roster to Redis once (SET) and sends what the protocol needs: `join` to the joiner, `user_joined`
 * to the room (one emit per join) and the call's state to the joiner. Written as cheaply as we know
 * how without the module's layers: the fan-outs of one turn of the event loop run together, and
 * the frames a WebSocket flushes in one tick leave in one system call (without these two, the N²
 * `user_joined` frames of a 200-join burst were a third of this server's CPU).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateSync } from 'node:zlib';
import { Redis } from 'ioredis';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { Server, type Socket } from 'socket.io';
import { ROUTER_MEDIA_CODECS } from '../../libs/calls/src/sfu/workers/media-codecs';
import { ServerTimeline } from './server-probe';

const PREFIX = 'custom_com.mattermost.calls_';
const DATA_STREAMS = [0, 1];

interface Consumed {
  readonly mid: string;
  readonly consumer: ms.Consumer;
  readonly msid: string;
}

/** One session: its socket, transport, producer (speakers) and consumers, in m-line order. */
interface BarePeer {
  readonly id: string;
  readonly userId: string;
  readonly socket: Socket;
  readonly transport: ms.WebRtcTransport;
  readonly closeData: () => void;
  /** The client's own m-lines (mid, kind, direction as the server sees it), in its order. */
  own: { mid: string; type: string; direction: 'recvonly' | 'inactive'; pt?: number }[];
  producer: ms.Producer | null;
  readonly consumed: Consumed[];
  /** Producers it consumes (or is about to). */
  readonly consumes: Set<string>;
  /** Consumers not yet in an offer, and those in the offer awaiting its answer. */
  queued: Consumed[];
  inFlight: Consumed[] | null;
  ready: boolean;
  version: number;
}

/** A bare SFU server on a free loopback port; {@link close} ends it. */
export class BareSfuServer {
  private readonly peers = new Map<string, BarePeer>();
  /** When each session's join came in, its answer and first offer went out, DTLS connected. */
  readonly timeline = new ServerTimeline();
  private seq = 0;
  private readonly announcements: (() => void)[] = [];
  private nextMid = 1;

  private constructor(
    private readonly http: HttpServer,
    private readonly io: Server,
    private readonly worker: ms.Worker,
    private readonly router: ms.Router,
    private readonly direct: ms.DirectTransport,
    private readonly levels: ms.AudioLevelObserver,
    private readonly redis: Redis,
    readonly url: string,
  ) {}

  static async start(redisUrl: string): Promise<BareSfuServer> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const direct = await router.createDirectTransport();
    const levels = await router.createAudioLevelObserver({ interval: 800 });
    const redis = new Redis(redisUrl);
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'] });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const server = new BareSfuServer(http, io, worker, router, direct, levels, redis, url);
    io.of('/calls').on('connection', (socket) => server.onConnection(socket));
    corkFlushes(io);
    return server;
  }

  /** CPU seconds its media worker used so far. */
  async workerCpuSeconds(): Promise<number> {
    const u = await this.worker.getResourceUsage();
    return (u.ru_utime + u.ru_stime) / 1000;
  }

  async close(): Promise<void> {
    for (const peer of this.peers.values()) peer.transport.close();
    this.peers.clear();
    await this.io.close();
    this.http.close();
    this.redis.disconnect();
    this.worker.close();
  }

  private envelope(event: string, data: Record<string, unknown>, channelId = '') {
    return {
      event: PREFIX + event,
      data,
      broadcast: {
        omit_users: null,
        user_id: '',
        channel_id: channelId,
        team_id: '',
        connection_id: '',
        omit_connection_id: '',
      },
      seq: ++this.seq,
    };
  }

  private onConnection(socket: Socket): void {
    const id = socket.id;
    socket.emit('hello', { event: 'hello', data: { connection_id: id }, seq: ++this.seq });
    const handle = (event: string, fn: (data: never) => unknown) =>
      socket.on(PREFIX + event, (...args: unknown[]) => {
        const ack =
          typeof args.at(-1) === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
        const data = args[0] as never;
        Promise.resolve()
          .then(() => fn(data))
          .then(
            (reply) => ack?.(reply ?? { ok: true }),
            (err: Error) => ack?.({ ok: false, error: { message: err.message } }),
          );
      });
    handle('metric', () => undefined);
    handle('join', (data: { channelID: string }) => this.join(socket, data.channelID));
    handle('sdp', (data: { data: Buffer }) => this.description(id, data.data));
    handle('ice', () => undefined);
    handle('unmute', () => this.unmute(id));
    socket.on('disconnect', () => {
      const peer = this.peers.get(id);
      peer?.closeData();
      peer?.transport.close();
      this.peers.delete(id);
    });
  }

  private async join(socket: Socket, channelId: string): Promise<void> {
    this.timeline.mark(socket.id, 'joinIn');
    const transport = await this.router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', portRange: { min: 40000, max: 49999 } }],
      enableUdp: true,
      enableTcp: false,
      preferUdp: true,
      enableSctp: true,
      numSctpStreams: { OS: 1024, MIS: 1024 },
      maxSctpMessageSize: 262144,
    });
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') this.timeline.mark(socket.id, 'dtlsConnected');
    });
    const closeData = await this.openDataStreams(transport);
    const peer: BarePeer = {
      id: socket.id,
      userId: `user-${socket.id}`,
      socket,
      transport,
      closeData,
      own: [],
      producer: null,
      consumed: [],
      consumes: new Set(),
      queued: [],
      inFlight: null,
      ready: false,
      version: 1,
    };
    this.peers.set(peer.id, peer);
    const roster = [...this.peers.values()].map((p) => ({
      session_id: p.id,
      user_id: p.userId,
      unmuted: p.producer !== null && !p.producer.paused,
      raised_hand: 0,
    }));
    const state = JSON.stringify({ id: channelId, channel_id: channelId, sessions: roster });
    await this.redis.set(`bare:call:${channelId}`, state);
    await socket.join(channelId);
    this.timeline.mark(socket.id, 'openEnd');
    socket.emit(PREFIX + 'join', this.envelope('join', { connID: peer.id }, channelId));
    this.announce(() => {
      const joined = this.envelope('user_joined', { user_id: peer.userId, session_id: peer.id });
      this.io.of('/calls').to(channelId).emit(joined.event, joined);
      const callState = this.envelope('call_state', { channel_id: channelId, call: state });
      socket.emit(callState.event, callState);
    });
  }

  /**
   * Runs a join's fan-out in the check phase of this turn, with every other of the turn: the
   * joiners' acknowledgements and answers go first, and a socket's frames of the turn leave in
   * one write.
   */
  private announce(fanOut: () => void): void {
    if (this.announcements.push(fanOut) > 1) return;
    setImmediate(() => this.announcements.splice(0).forEach((run) => run()));
  }

  /** The module's data channel relay: per stream, in and out through the DirectTransport. */
  private async openDataStreams(transport: ms.WebRtcTransport): Promise<() => void> {
    const objects: { close(): void }[] = [];
    for (const streamId of DATA_STREAMS) {
      const fromClient = await transport.produceData({
        sctpStreamParameters: { streamId, ordered: true },
      });
      objects.push(fromClient, await this.direct.consumeData({ dataProducerId: fromClient.id }));
      const toClient = await this.direct.produceData();
      objects.push(toClient, await transport.consumeData({ dataProducerId: toClient.id }));
    }
    return () => objects.reverse().forEach((o) => o.close());
  }

  private async unmute(id: string): Promise<void> {
    const peer = this.peers.get(id);
    if (!peer?.producer) return;
    await peer.producer.resume();
    const event = this.envelope('user_unmuted', { userID: peer.userId, session_id: peer.id });
    for (const room of peer.socket.rooms) {
      if (room !== peer.id) this.io.of('/calls').to(room).emit(event.event, event);
    }
  }

  private async description(id: string, payload: Buffer): Promise<void> {
    const peer = this.peers.get(id);
    if (!peer) throw new Error('not in a call');
    const { type, sdp } = JSON.parse(inflateSync(payload).toString()) as {
      type: string;
      sdp: string;
    };
    if (type === 'offer') this.timeline.mark(id, 'offerIn');
    const parsed = parse(sdp);
    if (type === 'answer') {
      const answered = peer.inFlight ?? [];
      peer.inFlight = null;
      await Promise.all(answered.map((c) => c.consumer.resume()));
      this.sendOffer(peer);
      return;
    }
    await this.acceptOffer(peer, parsed);
  }

  private async acceptOffer(peer: BarePeer, offer: SessionDescription): Promise<void> {
    const fingerprint = offer.fingerprint ?? offer.media[0].fingerprint!;
    await peer.transport.connect({
      dtlsParameters: {
        role: 'client',
        fingerprints: [{ algorithm: 'sha-256', value: fingerprint.hash }],
      },
    });
    for (const m of offer.media) {
      const mid = String(m.mid);
      if (m.type !== 'audio') {
        peer.own.push({ mid, type: m.type, direction: 'inactive' });
        continue;
      }
      const rtp = m.rtp.find((r) => r.codec.toLowerCase() === 'opus')!;
      peer.own.push({ mid, type: 'audio', direction: 'recvonly', pt: rtp.payload });
      const ssrc = Number(m.ssrcs?.[0]?.id);
      peer.producer = await peer.transport.produce({
        kind: 'audio',
        paused: true,
        rtpParameters: {
          mid,
          codecs: [
            { mimeType: 'audio/opus', payloadType: rtp.payload, clockRate: 48000, channels: 2 },
          ],
          encodings: [{ ssrc }],
          rtcp: { cname: String(m.ssrcs?.find((s) => s.attribute === 'cname')?.value ?? '') },
        },
      });
      await this.levels.addProducer({ producerId: peer.producer.id });
    }
    const answer = this.describe(
      peer,
      'answer',
      offer.media.map((m) => String(m.mid)),
    );
    this.signal(peer, { type: 'answer', sdp: answer });
    this.timeline.mark(peer.id, 'answerOut');
    const [candidate] = peer.transport.iceCandidates;
    this.signal(peer, {
      type: 'candidate',
      candidate: {
        candidate: `candidate:${candidate.foundation} 1 udp ${candidate.priority} ${candidate.address} ${candidate.port} typ host`,
        sdpMid: peer.own[0].mid,
        sdpMLineIndex: 0,
        usernameFragment: peer.transport.iceParameters.usernameFragment,
      },
    });
    peer.ready = true;
    for (const other of this.peers.values()) {
      if (other !== peer && other.producer) await this.consume(peer, other.producer);
      if (other !== peer && other.ready && peer.producer) await this.consume(other, peer.producer);
    }
  }

  private async consume(peer: BarePeer, producer: ms.Producer): Promise<void> {
    if (peer.consumes.has(producer.id)) return;
    peer.consumes.add(producer.id);
    const mid = `s${this.nextMid++}`;
    const consumer = await peer.transport.consume({
      producerId: producer.id,
      rtpCapabilities: this.router.rtpCapabilities,
      paused: true,
      mid,
    });
    const entry = { mid, consumer, msid: `voice_${producer.id}` };
    peer.consumed.push(entry);
    peer.queued.push(entry);
    this.sendOffer(peer);
  }

  /** The next server offer, when none is awaiting its answer and consumers wait for one. */
  private sendOffer(peer: BarePeer): void {
    if (peer.inFlight || peer.queued.length === 0) return;
    peer.inFlight = peer.queued;
    peer.queued = [];
    const mids = [...peer.own.map((o) => o.mid), ...peer.consumed.map((c) => c.mid)];
    this.signal(peer, { type: 'offer', sdp: this.describe(peer, 'offer', mids) });
    this.timeline.mark(peer.id, 'firstServerOffer');
  }

  /** The server's side of the session: the client's own m-lines, then every consumer. */
  private describe(peer: BarePeer, type: 'offer' | 'answer', mids: string[]): string {
    const { iceParameters, iceCandidates, dtlsParameters } = peer.transport;
    const fingerprint = dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256')!;
    const transportLines = {
      port: 7,
      connection: { version: 4, ip: '127.0.0.1' },
      setup: type === 'answer' ? 'passive' : 'actpass',
      iceUfrag: iceParameters.usernameFragment,
      icePwd: iceParameters.password,
      candidates: iceCandidates.map((c) => ({
        foundation: c.foundation,
        component: 1,
        transport: 'udp',
        priority: c.priority,
        ip: c.address,
        port: c.port,
        type: 'host',
      })),
      endOfCandidates: 'end-of-candidates',
    };
    const media: MediaDescription[] = [];
    for (const own of peer.own) {
      if (own.type === 'application') {
        media.push({
          ...transportLines,
          type: 'application',
          protocol: 'UDP/DTLS/SCTP',
          payloads: 'webrtc-datachannel',
          mid: own.mid,
          rtp: [],
          fmtp: [],
          sctpPort: 5000,
          maxMessageSize: 262144,
        } as MediaDescription);
      } else {
        media.push({
          ...transportLines,
          type: 'audio',
          protocol: 'UDP/TLS/RTP/SAVPF',
          payloads: String(own.pt),
          mid: own.mid,
          direction: own.direction,
          rtp: [{ payload: own.pt!, codec: 'OPUS', rate: 48000, encoding: 2 }],
          fmtp: [],
          rtcpMux: 'rtcp-mux',
          rtcpRsize: 'rtcp-rsize',
        } as MediaDescription);
      }
    }
    for (const { mid, consumer, msid } of peer.consumed) {
      const codec = consumer.rtpParameters.codecs[0];
      const ssrc = consumer.rtpParameters.encodings![0].ssrc!;
      const trackId = `${msid}_${consumer.id.slice(0, 8)}`;
      const track = `${msid} ${trackId}`;
      media.push({
        ...transportLines,
        type: 'audio',
        protocol: 'UDP/TLS/RTP/SAVPF',
        payloads: String(codec.payloadType),
        mid,
        direction: 'sendonly',
        msid: [{ id: msid, appdata: trackId }],
        rtp: [{ payload: codec.payloadType, codec: 'opus', rate: 48000, encoding: 2 }],
        fmtp: [],
        ssrcs: [
          { id: ssrc, attribute: 'cname', value: consumer.rtpParameters.rtcp?.cname ?? 'bare' },
          { id: ssrc, attribute: 'msid', value: track },
        ],
        rtcpMux: 'rtcp-mux',
        rtcpRsize: 'rtcp-rsize',
      } as MediaDescription);
    }
    return write({
      version: 0,
      origin: {
        username: '-',
        sessionId: 1,
        sessionVersion: peer.version++,
        netType: 'IN',
        ipVer: 4,
        address: '0.0.0.0',
      },
      name: '-',
      timing: { start: 0, stop: 0 },
      icelite: 'ice-lite',
      fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
      msidSemantic: { semantic: 'WMS', token: '*' },
      groups: [{ type: 'BUNDLE', mids: mids.join(' ') }],
      media,
    });
  }

  private signal(peer: BarePeer, signal: Record<string, unknown>): void {
    const event = this.envelope('signal', { connID: peer.id, data: JSON.stringify(signal) });
    peer.socket.emit(event.event, event);
  }
}

/** A TCP socket as far as corking goes. */
interface Corkable {
  readonly destroyed: boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
}

/** Corks a WebSocket connection's TCP socket from its engine.io flush to the end of the tick. */
function corkFlushes(io: Server): void {
  io.engine.on('flush', (connection: { transport?: { name?: string; socket?: unknown } }) => {
    const ws = connection.transport?.name === 'websocket' ? connection.transport.socket : null;
    const tcp = (ws as { _socket?: Corkable } | null)?._socket;
    if (!tcp || tcp.destroyed || tcp.writableCorked > 0) return;
    tcp.cork();
    process.nextTick(() => tcp.uncork());
  });
}
