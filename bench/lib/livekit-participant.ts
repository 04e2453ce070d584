import {
  AddTrackRequest,
  DisconnectReason,
  LeaveRequest,
  SessionDescription,
  SignalRequest,
  SignalResponse,
  SignalTarget,
  TrackSource,
  TrackType,
  TrickleRequest,
} from '@livekit/protocol';
import { MediaStream, MediaStreamTrack, RTCPeerConnection, type RTCDataChannel } from 'werift';
import WebSocket from 'ws';
import type { AudioRole, BenchParticipant, StageTimes } from './bench-participant';
import { OpusPacer } from './opus-pacer';
import { StreamCounter } from './rtp';

type ClientMessage = SignalRequest['message'];
type ServerMessage = SignalResponse['message'];

/** Keepalive of the signal connection (the server's `ping_interval`, 5 s). */
const PING_INTERVAL_MS = 5000;
/** Query of the signal URL, as livekit-client 2.23 sends it (dual-PC fallback path). */
const CLIENT_QUERY = 'auto_subscribe=1&sdk=js&version=2.23.0&protocol=16';

/** One of the participant's two peer connections, with candidates held until it can take them. */
interface Connection {
  readonly pc: RTCPeerConnection;
  readonly target: SignalTarget;
  /** Server candidates that came before the remote description. */
  readonly early: string[];
  /** Local candidates made before its description went out. */
  readonly unsent: string[];
  /** Whether its description (publisher: offer; subscriber: first answer) went out. */
  described: boolean;
}

/**
 * A cheap real WebRTC participant speaking LiveKit's client protocol (dual-PC, like livekit-client
 * against a server without `/rtc/v1`), with werift peer connections like {@link WeriftParticipant}
 * so that both protocols run on the same media stack: the signal WebSocket `<path>/rtc` opened
 * with the token is the join; after the `join` response, a participant with audio announces its
 * microphone (`add_track`, muted for `idle`) and waits for `track_published`; then the publisher
 * offer (data channels `_lossy`, `_reliable` and `_data_track`, plus the sendonly audio transceiver unless the
 * role is `none`) with its candidates trickled (target PUBLISHER). The server's subscriber offers
 * are answered with their `id` on the second connection, where others' audio arrives. Pings
 * every 5 s keep the signal connection open.
 */
export class LiveKitParticipant implements BenchParticipant {
  readonly times: StageTimes = {};
  readonly received = new StreamCounter();
  readonly errors: string[] = [];
  joinSentAt = 0;
  private socket: WebSocket | null = null;
  private publisher!: Connection;
  private subscriber!: Connection;
  private track: MediaStreamTrack | null = null;
  private channels: RTCDataChannel[] = [];
  private offerSdp = '';
  private cid = '';
  private joinStart = 0;
  private pinger: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly pacer = new OpusPacer();
  private joined: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private published: (() => void) | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly role: AudioRole,
    readonly sessionId: string,
  ) {}

  get sent(): number {
    return this.pacer.sent;
  }

  /** Nothing to connect before the join: the signal connection is the join. */
  connect(): Promise<void> {
    return Promise.resolve();
  }

  /** Makes both peer connections and the publisher's offer (client work, not timed). */
  async prepare(): Promise<void> {
    this.publisher = this.connection(SignalTarget.PUBLISHER);
    this.subscriber = this.connection(SignalTarget.SUBSCRIBER);
    this.publisher.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.times.connected ??= this.elapsed();
    });
    this.subscriber.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.times.subscriberConnected ??= this.elapsed();
    });
    this.subscriber.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.times.firstMedia ??= this.elapsed();
        this.received.add(rtp.header.ssrc, rtp.header.sequenceNumber);
      });
    });
    // livekit-client 2.23's channels, in its order (the server names them by order).
    const lossy = { ordered: false, maxRetransmits: 0 };
    this.channels = [
      this.publisher.pc.createDataChannel('_lossy', lossy),
      this.publisher.pc.createDataChannel('_reliable', { ordered: true }),
      this.publisher.pc.createDataChannel('_data_track', lossy),
    ];
    if (this.role !== 'none') {
      this.track = new MediaStreamTrack({ kind: 'audio' });
      // In a stream, so that the offer has an msid (its track id is the `add_track` cid).
      this.publisher.pc.addTransceiver(this.track, {
        direction: 'sendonly',
        streams: [new MediaStream([this.track])],
      });
    }
    await this.publisher.pc.setLocalDescription(await this.publisher.pc.createOffer());
    this.offerSdp = this.publisher.pc.localDescription?.sdp ?? '';
    // The client track id the server matches `add_track`'s `cid` against: the msid's track id.
    this.cid = /a=msid:\S+ (\S+)/.exec(this.offerSdp)?.[1] ?? '';
    if (this.role !== 'none' && this.cid === '') throw new Error('offer without an msid');
  }

  /**
   * Opens the signal connection (the join; the token names the room) and sends the publisher
   * offer once the server took the join in (after `track_published` when announcing audio).
   * Resolves once the offer went out.
   */
  join(): Promise<void> {
    this.joinStart = performance.now();
    this.joinSentAt = performance.timeOrigin + this.joinStart;
    const base = this.url.replace(/^http/, 'ws');
    const socket = new WebSocket(
      `${base}/rtc?access_token=${encodeURIComponent(this.token)}&${CLIENT_QUERY}`,
    );
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      this.joined = { resolve, reject };
      socket.once('open', () => {
        this.times.wsOpen = this.elapsed();
        this.pinger = setInterval(
          () => this.send({ case: 'ping', value: BigInt(Date.now()) }),
          PING_INTERVAL_MS,
        );
      });
      socket.once('unexpected-response', (_req, res) =>
        this.fail(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      socket.once('error', (err) => this.fail(err));
      socket.on('close', (code, reason) => {
        this.stopPings();
        this.fail(new Error(`signal connection closed: ${code} ${reason.toString()}`));
      });
      socket.on('message', (data: Buffer) => {
        const message = SignalResponse.fromBinary(new Uint8Array(data)).message;
        this.serial(() => this.onMessage(message));
      });
    });
  }

  /** Sends the packets due (see {@link OpusPacer}). Speakers only, once connected. */
  sendDue(now: number, maxBurst = 3): void {
    const track = this.track;
    if (this.role !== 'speaker' || !track || this.publisher?.pc.connectionState !== 'connected') {
      return;
    }
    this.pacer.sendDue(now, maxBurst, (packet) => track.writeRtp(packet));
  }

  /** Sends `leave` and waits (at most 30 s) for the server to close the signal connection. */
  async leave(): Promise<void> {
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.send({
        case: 'leave',
        value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }),
      });
      await closed;
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.stopPings();
    this.socket?.close();
    for (const channel of this.channels) channel.close();
    await Promise.all(
      [this.publisher, this.subscriber].map((c) => c?.pc.close().catch(() => undefined)),
    );
  }

  private connection(target: SignalTarget): Connection {
    // No ICE servers: loopback only (werift's default names a public STUN server).
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    const connection: Connection = { pc, target, early: [], unsent: [], described: false };
    pc.onIceCandidate.subscribe((c) => {
      if (!c?.candidate) return;
      const init = JSON.stringify({
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      });
      if (connection.described) this.trickle(target, init);
      else connection.unsent.push(init);
    });
    return connection;
  }

  /** Its description went out: the candidates held for it follow. */
  private releaseCandidates(c: Connection): void {
    c.described = true;
    for (const init of c.unsent.splice(0)) this.trickle(c.target, init);
  }

  private async onMessage(message: ServerMessage): Promise<void> {
    switch (message.case) {
      case 'join':
        this.times.joinResponse = this.elapsed();
        if (this.role === 'none') this.sendOffer();
        else this.announceMicrophone();
        return;
      case 'trackPublished':
        if (message.value.cid !== this.cid) return;
        this.times.trackPublished ??= this.elapsed();
        this.published?.();
        return;
      case 'answer':
        this.times.answer ??= this.elapsed();
        this.pacer.useAnswer(message.value.sdp);
        await this.publisher.pc.setRemoteDescription({ type: 'answer', sdp: message.value.sdp });
        await this.addEarly(this.publisher);
        return;
      case 'offer':
        this.times.subscriberOffer ??= this.elapsed();
        await this.answerSubscriber(message.value);
        return;
      case 'trickle':
        await this.addCandidate(message.value);
        return;
      case 'leave':
        this.errors.push(`server leave: reason ${message.value.reason}`);
        return;
      default:
        return;
    }
  }

  private announceMicrophone(): void {
    this.published = () => {
      this.published = null;
      this.sendOffer();
    };
    this.send({
      case: 'addTrack',
      value: new AddTrackRequest({
        cid: this.cid,
        type: TrackType.AUDIO,
        source: TrackSource.MICROPHONE,
        muted: this.role === 'idle',
      }),
    });
  }

  private sendOffer(): void {
    this.times.offerSent = this.elapsed();
    this.send({
      case: 'offer',
      value: new SessionDescription({ type: 'offer', sdp: this.offerSdp, id: 1 }),
    });
    this.releaseCandidates(this.publisher);
    this.joined?.resolve();
    this.joined = null;
  }

  private async answerSubscriber(offer: SessionDescription): Promise<void> {
    const pc = this.subscriber.pc;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await this.addEarly(this.subscriber);
    await pc.setLocalDescription(await pc.createAnswer());
    this.send({
      case: 'answer',
      value: new SessionDescription({
        type: 'answer',
        sdp: pc.localDescription?.sdp ?? '',
        id: offer.id,
      }),
    });
    this.releaseCandidates(this.subscriber);
  }

  private async addCandidate(trickle: TrickleRequest): Promise<void> {
    const c = trickle.target === SignalTarget.SUBSCRIBER ? this.subscriber : this.publisher;
    if (c.pc.remoteDescription === null) c.early.push(trickle.candidateInit);
    else await c.pc.addIceCandidate(JSON.parse(trickle.candidateInit)).catch(() => undefined);
  }

  private async addEarly(c: Connection): Promise<void> {
    for (const init of c.early.splice(0)) {
      await c.pc.addIceCandidate(JSON.parse(init)).catch(() => undefined);
    }
  }

  private trickle(target: SignalTarget, candidateInit: string): void {
    this.send({ case: 'trickle', value: new TrickleRequest({ candidateInit, target }) });
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(new SignalRequest({ message }).toBinary());
  }

  private fail(err: Error): void {
    if (!this.joined) return;
    this.joined.reject(err);
    this.joined = null;
  }

  private stopPings(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }

  private elapsed(): number {
    return performance.now() - this.joinStart;
  }

  private serial(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.errors.push(err.message);
    });
  }
}
