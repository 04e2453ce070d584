import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { DataChannelRelay } from './data-channel.relay';
import type { IceRestartSettings } from '../peer/ice-restart.policy';
import { MAX_SCTP_MESSAGE_SIZE } from '../peer/peer-description.builder';
import { ROUTER_MEDIA_CODECS } from '../workers/media-codecs';
import type { SfuProducerAppData } from '../peer/peer-producers';
import type { PipedRoom, RoomPipes } from '../pipe/room-pipes';
import type { RoomPipesFactory } from '../pipe/room-pipes-factory.interface';
import { type PeerContext, SfuPeer } from '../peer/sfu-peer';
import { type SfuNetworkSettings, transportListenInfos } from '../workers/sfu-network';
import type {
  IceRestartInitiator,
  MediaOfferTrack,
  MediaSessionCloseReason,
  MediaSessionOptions,
  MediaSessionRef,
  MediaSignal,
  MediaTrack,
} from '../../media/media-plane.interface';
import { type RoomTrackEvents, RoomTracks } from './room-tracks';
import { VoiceActivityMonitor } from './voice-activity.monitor';
import type { PooledWorker, WorkerPool } from '../workers/worker-pool';

/** What a room needs from the service. */
export interface RoomContext {
  readonly pool: WorkerPool;
  readonly network: SfuNetworkSettings;
  readonly maxSdpBytes: number;
  readonly signalingTimeoutMs: number;
  readonly iceConsentTimeoutSec: number;
  readonly iceRestart: IceRestartSettings;
  readonly signal: (ref: MediaSessionRef, signal: MediaSignal) => void;
  /** The consumers of a server offer about to be sent to a session. */
  readonly offerTracks: (ref: MediaSessionRef, tracks: readonly MediaOfferTrack[]) => void;
  /** A message a session's client sent on a labelled data channel. */
  readonly data: (
    ref: MediaSessionRef,
    label: string,
    payload: Uint8Array,
    binary: boolean,
  ) => void;
  /** Tracks of the call starting, pausing and ending. */
  readonly tracks: RoomTrackEvents;
  readonly voice: (ref: MediaSessionRef, speaking: boolean) => void;
  /** A session of `room` closed itself (the room forgot it); the service reports `sessionClosed`. */
  readonly sessionClosed: (
    room: SfuRoom,
    ref: MediaSessionRef,
    reason: MediaSessionCloseReason,
  ) => void;
  /** A session's ICE was restarted. */
  readonly iceRestarted: (ref: MediaSessionRef, initiator: IceRestartInitiator) => void;
  /** Media pipes to the other instances serving the call (none with one instance). */
  readonly pipes: RoomPipesFactory | null;
}

/** How long a call waits for a replacement worker when none is running. */
const REPLACEMENT_WAIT_MS = 10_000;

/**
 * One call's media on this instance: a router on the least loaded worker, its audio level observer
 * and data channel relay, and one {@link SfuPeer} per session served here. Every peer that
 * receives consumes every producer but its own participant's ({@link SfuPeer.receives}): the
 * other peers' and those imported from the other instances serving the call ({@link RoomPipes};
 * their voice activity is reported by the instance that serves their session). Every producer is
 * reported as a track ({@link RoomTracks}) before anyone consumes it. When the router's worker dies, the room moves to a new router, every session
 * renegotiates (new transport, server offer with new ICE and DTLS parameters) and the pipes are
 * set up again.
 */
export class SfuRoom implements PipedRoom {
  private readonly logger = new Logger(SfuRoom.name);
  private readonly peers = new Map<string, SfuPeer>();
  private router!: ms.Router;
  private worker!: PooledWorker;
  private relay!: DataChannelRelay;
  private voiceMonitor!: VoiceActivityMonitor;
  private recovering: Promise<void> | null = null;
  private pipes: RoomPipes | null = null;
  private closed = false;
  /** {@link addPeer} calls in progress. */
  private joining = 0;
  private readonly trackList: RoomTracks;

  private constructor(
    readonly callId: string,
    private readonly ctx: RoomContext,
  ) {
    this.trackList = new RoomTracks(callId, ctx.tracks);
  }

  /** Creates the room's router on the least loaded worker. */
  static async create(callId: string, ctx: RoomContext): Promise<SfuRoom> {
    const room = new SfuRoom(callId, ctx);
    await room.setUpRouter();
    room.logger.log(`room created [callId=${callId}, workerPid=${room.worker.worker.pid}]`);
    room.pipes = ctx.pipes?.attach(room) ?? null;
    room.pipes?.start();
    return room;
  }

  /** Whether no session is in the room and none is joining it (the room may close). */
  get isEmpty(): boolean {
    return this.peers.size === 0 && this.joining === 0;
  }

  /** Whether the room is closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the room's router is open (false while it moves after a worker death). */
  get hasRouter(): boolean {
    return !this.router.closed;
  }

  /** The room's current router (it changes when the room moves after a worker death). */
  get activeRouter(): ms.Router {
    return this.router;
  }

  /** Pipe transports to and from other instances open now. */
  get pipeCount(): number {
    return this.pipes?.transportCount ?? 0;
  }

  /** Producers imported from other instances. */
  get importedProducers(): ms.Producer[] {
    return this.pipes?.importedProducers ?? [];
  }

  /** Producers of the sessions served here. */
  localProducers(): ms.Producer[] {
    return this.sessions.flatMap((p) => p.producers);
  }

  /** The call's tracks here, local and imported. */
  tracks(): MediaTrack[] {
    return this.trackList.list();
  }

  /** A producer imported from another instance: every ready peer that receives consumes it. */
  imported(producer: ms.Producer): void {
    this.trackList.add(producer);
    this.offerToAll(producer);
  }

  /** A peer's producers were relabelled (screen share): other instances update their copies. */
  producersChanged(peer: SfuPeer): void {
    for (const producer of peer.producers) this.pipes?.producerChanged(producer);
  }

  /** PID of the worker that runs the room's router. */
  get workerPid(): number {
    return this.worker.worker.pid;
  }

  /** The room's peers. */
  get sessions(): readonly SfuPeer[] {
    return [...this.peers.values()];
  }

  /** The session's peer, if the session is in the room. */
  peer(sessionId: string): SfuPeer | undefined {
    return this.peers.get(sessionId);
  }

  /**
   * Adds a session: a peer with its transport on the room's router. While it joins, the room
   * is not {@link isEmpty}.
   */
  async addPeer(ref: MediaSessionRef, options: MediaSessionOptions = {}): Promise<SfuPeer> {
    this.joining++;
    try {
      if (this.recovering) await this.recovering;
      const peer = await SfuPeer.create(ref, this.peerContext(), options);
      if (this.closed) {
        peer.close();
        throw new Error(`room closed while the session joined [callId=${this.callId}]`);
      }
      this.peers.set(ref.sessionId, peer);
      this.logger.log(
        `session opened [callId=${this.callId}, sessionId=${ref.sessionId}, direction=${peer.direction}]`,
      );
      // A subscribe-only peer receives at once (the server offers first).
      if (peer.isReady) this.onReady(peer);
      return peer;
    } finally {
      this.joining--;
    }
  }

  /** Closes and forgets one session (the others get server offers without its tracks). */
  removePeer(sessionId: string): void {
    const peer = this.peers.get(sessionId);
    if (!peer) return;
    // Still in the map, so that a leaving speaker is reported silent.
    for (const producer of peer.producers) this.voiceMonitor.forget(producer);
    this.peers.delete(sessionId);
    peer.close();
    this.logger.log(`session closed [callId=${this.callId}, sessionId=${sessionId}]`);
  }

  /** Closes every session, then the router (children first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sessionId of [...this.peers.keys()]) this.removePeer(sessionId);
    this.pipes?.close();
    this.voiceMonitor.close();
    this.relay.close();
    if (!this.router.closed) this.router.close();
    this.logger.log(`room closed [callId=${this.callId}]`);
  }

  private async setUpRouter(): Promise<void> {
    const worker = await this.ctx.pool.pickWhenAvailable(REPLACEMENT_WAIT_MS);
    const router = await worker.worker.createRouter({
      mediaCodecs: ROUTER_MEDIA_CODECS,
      appData: { callId: this.callId },
    });
    let relay: DataChannelRelay;
    let voiceMonitor: VoiceActivityMonitor;
    try {
      relay = await DataChannelRelay.create(router);
      voiceMonitor = await VoiceActivityMonitor.create(router, (producer, speaking) => {
        const peer = this.sender(producer.appData as SfuProducerAppData);
        if (peer) this.ctx.voice(peer.ref, speaking);
      });
    } catch (err) {
      router.close();
      throw err;
    }
    // After a worker death: report everyone who was speaking on the old router as silent.
    (this.voiceMonitor as VoiceActivityMonitor | undefined)?.close();
    this.relay = relay;
    this.voiceMonitor = voiceMonitor;
    this.router = router;
    this.worker = worker;
    router.on('workerclose', () => {
      if (this.closed || this.router !== router) return;
      // Deferred: mediasoup closes routers before it reports the worker's death to the pool.
      setImmediate(() => this.startRecovery());
    });
  }

  private peerContext(): PeerContext {
    return {
      router: this.router,
      createTransport: (ref) => this.createTransport(ref),
      dataRelay: this.relay,
      maxSdpBytes: this.ctx.maxSdpBytes,
      signalingTimeoutMs: this.ctx.signalingTimeoutMs,
      iceRestart: this.ctx.iceRestart,
      signal: this.ctx.signal,
      offerTracks: this.ctx.offerTracks,
      data: this.ctx.data,
      onProducer: (peer, producer) => this.onProducer(peer, producer),
      onReady: (peer) => this.onReady(peer),
      onSelfClose: (peer, reason) => this.onSelfClose(peer, reason),
      iceRestarted: this.ctx.iceRestarted,
    };
  }

  private createTransport(ref: MediaSessionRef): Promise<ms.WebRtcTransport> {
    const common = {
      enableUdp: true,
      enableTcp: this.ctx.network.enableTcp,
      preferUdp: true,
      enableSctp: true,
      numSctpStreams: { OS: 1024, MIS: 1024 },
      maxSctpMessageSize: MAX_SCTP_MESSAGE_SIZE,
      iceConsentTimeout: this.ctx.iceConsentTimeoutSec,
      appData: { callId: ref.callId, sessionId: ref.sessionId },
    };
    const server = this.worker.webRtcServer;
    return server
      ? this.router.createWebRtcTransport({ ...common, webRtcServer: server })
      : this.router.createWebRtcTransport({
          ...common,
          listenInfos: transportListenInfos(this.ctx.network),
        });
  }

  /** The peer whose client sends a producer (by the session id its producers carry). */
  private sender(appData: SfuProducerAppData): SfuPeer | undefined {
    return (
      this.peers.get(appData.sessionId) ??
      this.sessions.find(
        (p) => p.ownerSessionId === appData.sessionId && p.direction !== 'subscribe',
      )
    );
  }

  private onProducer(peer: SfuPeer, producer: ms.Producer<SfuProducerAppData>): void {
    this.watchVoice(producer);
    this.trackList.add(producer);
    this.offerToAll(producer, peer);
    this.pipes?.producerStarted(producer);
  }

  /** Every ready peer that receives `producer` (but its sender) consumes it. */
  private offerToAll(producer: ms.Producer, sender?: SfuPeer): void {
    for (const other of this.peers.values()) {
      if (other === sender || !other.isReady || other.isClosed) continue;
      this.consumeInto(other, producer);
    }
  }

  private consumeInto(peer: SfuPeer, producer: ms.Producer): void {
    if (!peer.receives(producer)) return;
    peer.consume(producer).catch((err: Error) => this.consumeFailed(peer, err));
  }

  private onReady(peer: SfuPeer): void {
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers) this.consumeInto(peer, producer);
    }
    for (const producer of this.importedProducers) this.consumeInto(peer, producer);
  }

  private watchVoice(producer: ms.Producer<SfuProducerAppData>): void {
    if (producer.appData.type !== 'voice') return;
    void this.voiceMonitor.add(producer);
    producer.observer.on('pause', () => this.voiceMonitor.silence(producer));
  }

  private consumeFailed(peer: SfuPeer, err: Error): void {
    if (peer.isClosed) return;
    this.logger.warn(`consume failed [${peer.context}]: ${err.message}`);
  }

  private onSelfClose(peer: SfuPeer, reason: MediaSessionCloseReason): void {
    if (this.peers.get(peer.ref.sessionId) !== peer) return;
    this.removePeer(peer.ref.sessionId);
    this.ctx.sessionClosed(this, peer.ref, reason);
  }

  private startRecovery(): void {
    if (this.closed || this.recovering) return;
    this.recovering = this.recover().finally(() => (this.recovering = null));
  }

  /** Moves the call to a new router after its worker died. */
  private async recover(): Promise<void> {
    const started = Date.now();
    const deadPid = this.worker.worker.pid;
    this.logger.warn(
      `worker of the call died, moving it [callId=${this.callId}, workerPid=${deadPid}]`,
    );
    try {
      await this.setUpRouter();
    } catch (err) {
      this.logger.error(
        `call cannot move, closing it [callId=${this.callId}]: ${(err as Error).message}`,
      );
      for (const peer of this.sessions) this.onSelfClose(peer, 'worker-died');
      return;
    }
    // A publish-only client is never sent an offer: it cannot learn the new transport's
    // parameters, so it has to come back as a new session.
    for (const peer of this.sessions) {
      if (peer.direction === 'publish') this.onSelfClose(peer, 'worker-died');
    }
    const peers = this.sessions;
    await Promise.all(
      peers.map((peer) =>
        peer.migrate(this.peerContext()).catch((err: Error) => {
          this.logger.warn(`session cannot move [${peer.context}]: ${err.message}`);
          this.onSelfClose(peer, 'worker-died');
        }),
      ),
    );
    const moved = this.sessions;
    for (const peer of moved) peer.producers.forEach((p) => this.watchVoice(p));
    for (const peer of moved) peer.producers.forEach((p) => this.trackList.add(p));
    for (const peer of moved) {
      if (!peer.isReady) continue;
      for (const other of moved) {
        if (other === peer) continue;
        for (const producer of other.producers) this.consumeInto(peer, producer);
      }
    }
    for (const peer of moved) if (peer.isReady) peer.requestOffer();
    // The pipes died with the old router: set them up again (imports arrive as they come).
    void this.pipes?.reset();
    this.logger.log(
      `call moved to a new router [callId=${this.callId}, workerPid=${this.worker.worker.pid}, sessions=${moved.length}, ms=${Date.now() - started}]`,
    );
  }
}
