import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type { IceRestartSettings } from '../peer/ice-restart.policy';
import { MAX_SCTP_MESSAGE_SIZE } from '../peer/peer-description.builder';
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
import type { RoomRouter } from './room-router';
import { RoomRouters } from './room-routers';
import { type RoomTrackEvents, RoomTracks } from './room-tracks';
import { VoiceActivityMonitor } from './voice-activity.monitor';
import type { WorkerPool } from '../workers/worker-pool';

/** Attempts to open a session whose router's worker died meanwhile. */
const MAX_OPEN_ATTEMPTS = 3;

/** What a room needs from the service. */
export interface RoomContext {
  readonly pool: WorkerPool;
  /** Sessions a router of the call takes before the call spreads to another worker (0: never). */
  readonly maxSessionsPerRouter: number;
  readonly network: SfuNetworkSettings;
  readonly maxSdpBytes: number;
  readonly signalingTimeoutMs: number;
  readonly iceConsentTimeoutSec: number;
  readonly iceRestart: IceRestartSettings;
  /** The most a session's client may send (bps; 0: no cap): its uplink estimate is capped. */
  readonly maxIncomingBitrate: number;
  /** The most video the server sends one session (bps; 0: the bandwidth estimate alone). */
  readonly maxOutgoingBitrate: number;
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

/**
 * One call's media on this instance: its routers ({@link RoomRouters}: one on the least loaded
 * worker, more on other workers for a big call), the audio level observer of the primary router,
 * and one {@link SfuPeer} per session served here, each with its transport on the router it was
 * placed on. Every peer that receives consumes every producer but its own participant's
 * ({@link SfuPeer.receives}): the other peers' (copied into its router when they live on another
 * one) and those imported from the other instances serving the call ({@link RoomPipes}; their
 * voice activity is reported by the instance that serves their session). Every producer is
 * reported as a track ({@link RoomTracks}) before anyone consumes it. When a worker of the call
 * dies, the sessions of its router move to another router (new transport, server offer with new
 * ICE and DTLS parameters); when it was the primary's, the call gets a new primary and the pipes
 * are set up again.
 */
export class SfuRoom implements PipedRoom {
  private readonly logger = new Logger(SfuRoom.name);
  private readonly peers = new Map<string, SfuPeer>();
  /** The router each peer's transport is on. */
  private readonly homes = new Map<SfuPeer, RoomRouter>();
  private routers!: RoomRouters;
  private voiceMonitor!: VoiceActivityMonitor;
  /** The producer the voice monitor watches (on the primary) for each voice producer id. */
  private readonly watchedVoice = new Map<string, ms.Producer>();
  private recovering: Promise<void> | null = null;
  private recoverAgain = false;
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

  /** Creates the room's primary router on the least loaded worker. */
  static async create(callId: string, ctx: RoomContext): Promise<SfuRoom> {
    const room = new SfuRoom(callId, ctx);
    room.routers = await RoomRouters.create({
      callId,
      pool: ctx.pool,
      maxSessionsPerRouter: ctx.maxSessionsPerRouter,
      workerDied: () => room.startRecovery(),
      senderRouter: (producer) => {
        const sender = room.sender(producer.appData as SfuProducerAppData);
        return sender && room.homes.get(sender);
      },
    });
    try {
      room.voiceMonitor = await room.createVoiceMonitor();
    } catch (err) {
      room.routers.close();
      throw err;
    }
    room.logger.log(`room created [callId=${callId}, workerPid=${room.workerPid}]`);
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

  /** Whether the room's primary router is open (false while it moves after a worker death). */
  get hasRouter(): boolean {
    return !this.routers.primary.closed;
  }

  /** Open routers of the room. */
  get routerCount(): number {
    return this.routers.all().filter((r) => !r.closed).length;
  }

  /** The room's primary router (it changes when the call moves after a worker death). */
  get activeRouter(): ms.Router {
    return this.routers.primary.router;
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
    this.routers.produced(producer, this.routers.primary);
    this.trackList.add(producer);
    this.offerToAll(producer);
  }

  /**
   * A peer's producers were relabelled (screen share, camera, layers): other instances update
   * their copies, and the consumers here are set again for the new labels.
   */
  producersChanged(peer: SfuPeer): void {
    for (const producer of peer.producers) this.pipes?.producerChanged(producer);
    this.labelsChanged();
  }

  /** Labels of producers consumed here changed (here or on another instance). */
  labelsChanged(): void {
    for (const peer of this.peers.values()) {
      peer.refreshConsumers().catch((err: Error) => {
        if (!peer.isClosed)
          this.logger.warn(`consumers not updated [${peer.context}]: ${err.message}`);
      });
    }
  }

  /** PID of the worker that runs the room's primary router. */
  get workerPid(): number {
    return this.routers.primary.worker.worker.pid;
  }

  /** PIDs of the workers that run the room's routers, the primary's first. */
  get workerPids(): number[] {
    return this.routers
      .all()
      .filter((r) => !r.closed)
      .map((r) => r.worker.worker.pid);
  }

  /** The room's peers. */
  get sessions(): readonly SfuPeer[] {
    return [...this.peers.values()];
  }

  /** The session's peer, if the session is in the room. */
  peer(sessionId: string): SfuPeer | undefined {
    return this.peers.get(sessionId);
  }

  /** PID of the worker whose router holds the session's transport. */
  sessionWorkerPid(sessionId: string): number | undefined {
    const peer = this.peers.get(sessionId);
    return peer ? this.homes.get(peer)?.worker.worker.pid : undefined;
  }

  /**
   * Adds a session: a peer with its transport on the router it is placed on. While it joins, the
   * room is not {@link isEmpty}.
   */
  async addPeer(ref: MediaSessionRef, options: MediaSessionOptions = {}): Promise<SfuPeer> {
    this.joining++;
    try {
      const { peer, home } = await this.openPeer(ref, options);
      if (this.closed) {
        peer.close();
        throw new Error(`room closed while the session joined [callId=${this.callId}]`);
      }
      this.peers.set(ref.sessionId, peer);
      this.homes.set(peer, home);
      this.logger.log(
        `session opened [callId=${this.callId}, sessionId=${ref.sessionId}, direction=${peer.direction}, workerPid=${home.worker.worker.pid}]`,
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
    for (const producer of peer.producers) {
      const watched = this.watchedVoice.get(producer.id);
      if (watched) this.voiceMonitor.forget(watched);
    }
    this.peers.delete(sessionId);
    peer.close();
    const home = this.homes.get(peer);
    this.homes.delete(peer);
    if (home && !this.closed) this.routers.leave(home);
    this.logger.log(`session closed [callId=${this.callId}, sessionId=${sessionId}]`);
  }

  /** Closes every session, then the routers (children first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sessionId of [...this.peers.keys()]) this.removePeer(sessionId);
    this.pipes?.close();
    this.voiceMonitor.close();
    this.routers.close();
    this.logger.log(`room closed [callId=${this.callId}]`);
  }

  private createVoiceMonitor(): Promise<VoiceActivityMonitor> {
    return VoiceActivityMonitor.create(this.routers.primary.router, (producer, speaking) => {
      const peer = this.sender(producer.appData as SfuProducerAppData);
      if (peer) this.ctx.voice(peer.ref, speaking);
    });
  }

  private peerContext(home: RoomRouter): PeerContext {
    return {
      router: home.router,
      createTransport: (ref) => this.createTransport(home, ref),
      dataRelay: home.relay,
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

  /** A session's transport, with the bitrate caps of the configuration. */
  private async createTransport(
    home: RoomRouter,
    ref: MediaSessionRef,
  ): Promise<ms.WebRtcTransport> {
    const transport = await this.newTransport(home, ref);
    try {
      const { maxIncomingBitrate, maxOutgoingBitrate } = this.ctx;
      // The client's congestion control obeys the REMB limit mediasoup then sends it.
      if (maxIncomingBitrate > 0) await transport.setMaxIncomingBitrate(maxIncomingBitrate);
      // mediasoup shares min(estimate, cap) among the simulcast layers it forwards.
      if (maxOutgoingBitrate > 0) await transport.setMaxOutgoingBitrate(maxOutgoingBitrate);
    } catch (err) {
      transport.close();
      throw err;
    }
    return transport;
  }

  private newTransport(home: RoomRouter, ref: MediaSessionRef): Promise<ms.WebRtcTransport> {
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
    const server = home.worker.webRtcServer;
    return server
      ? home.router.createWebRtcTransport({ ...common, webRtcServer: server })
      : home.router.createWebRtcTransport({
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
    const home = this.homes.get(peer);
    if (home) this.routers.produced(producer, home);
    this.trackList.add(producer);
    this.offerToAll(producer, peer);
    this.onPrimary(producer, (copy) => {
      this.watchVoice(copy);
      this.pipes?.producerStarted(producer);
    });
  }

  /**
   * Runs `then` with the producer as the primary router has it: at once when it lives there,
   * else once it was copied there (the voice monitor and the pipes to other instances work on
   * the primary).
   */
  private onPrimary(producer: ms.Producer, then: (onPrimary: ms.Producer) => void): void {
    const primary = this.routers.primary;
    if (this.routers.originOf(producer) === primary) {
      then(producer);
      return;
    }
    this.routers
      .on(producer, primary)
      .then((copy) => {
        if (!copy.closed && !this.closed) then(copy);
      })
      .catch((err: Error) => {
        if (!producer.closed && !this.closed) {
          this.logger.warn(
            `producer not copied to the primary router [callId=${this.callId}, producerId=${producer.id}]: ${err.message}`,
          );
        }
      });
  }

  /** Every ready peer that receives `producer` (but its sender) consumes it. */
  private offerToAll(producer: ms.Producer, sender?: SfuPeer): void {
    for (const other of this.peers.values()) {
      if (other === sender || !other.isReady || other.isClosed) continue;
      this.consumeInto(other, producer);
    }
  }

  /** The peer consumes the producer, copied into the peer's router first if it lives elsewhere. */
  private consumeInto(peer: SfuPeer, producer: ms.Producer): void {
    if (!peer.receives(producer)) return;
    const home = this.homes.get(peer);
    if (!home) return;
    this.routers
      .on(producer, home)
      .then(() => peer.consume(producer))
      .catch((err: Error) => this.consumeFailed(peer, producer, err));
  }

  private onReady(peer: SfuPeer): void {
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers) this.consumeInto(peer, producer);
    }
    for (const producer of this.importedProducers) this.consumeInto(peer, producer);
  }

  private watchVoice(producer: ms.Producer): void {
    if ((producer.appData as SfuProducerAppData).type !== 'voice') return;
    this.watchedVoice.set(producer.id, producer);
    producer.observer.once('close', () => {
      if (this.watchedVoice.get(producer.id) === producer) this.watchedVoice.delete(producer.id);
    });
    void this.voiceMonitor.add(producer);
    producer.observer.on('pause', () => this.voiceMonitor.silence(producer));
  }

  private consumeFailed(peer: SfuPeer, producer: ms.Producer, err: Error): void {
    if (peer.isClosed || producer.closed || this.closed) return;
    // A worker died under it: the recovery consumes everything again.
    if (this.homes.get(peer)?.closed || this.routers.originOf(producer).closed) {
      this.logger.debug(`consume interrupted by a worker's death [${peer.context}]`);
      return;
    }
    this.logger.warn(`consume failed [${peer.context}, producerId=${producer.id}]: ${err.message}`);
  }

  private onSelfClose(peer: SfuPeer, reason: MediaSessionCloseReason): void {
    if (this.peers.get(peer.ref.sessionId) !== peer) return;
    this.removePeer(peer.ref.sessionId);
    this.ctx.sessionClosed(this, peer.ref, reason);
  }

  /** Recovers from a worker death; a death during a recovery is recovered from after it. */
  private startRecovery(): void {
    if (this.closed) return;
    if (this.recovering) {
      this.recoverAgain = true;
      return;
    }
    this.recovering = this.recover().finally(() => {
      this.recovering = null;
      if (this.recoverAgain) {
        this.recoverAgain = false;
        this.startRecovery();
      }
    });
  }

  /**
   * Moves the sessions of the routers whose worker died to other routers (a new primary first
   * when the primary's worker died), then lets everyone consume again what they lost.
   */
  private async recover(): Promise<void> {
    const started = Date.now();
    const stranded = this.sessions.filter((p) => this.homes.get(p)?.closed);
    this.logger.warn(
      `worker of the call died, moving its sessions [callId=${this.callId}, sessions=${stranded.length}]`,
    );
    let primaryReplaced: boolean;
    try {
      primaryReplaced = await this.routers.recover(stranded.length);
      if (primaryReplaced) {
        const old = this.voiceMonitor;
        this.voiceMonitor = await this.createVoiceMonitor();
        // Everyone who was speaking on the old router is reported silent.
        old.close();
        this.watchedVoice.clear();
      }
    } catch (err) {
      this.logger.error(
        `call cannot move, closing it [callId=${this.callId}]: ${(err as Error).message}`,
      );
      for (const peer of this.sessions) this.onSelfClose(peer, 'worker-died');
      return;
    }
    // A publish-only client is never sent an offer: it cannot learn the new transport's
    // parameters, so it has to come back as a new session.
    for (const peer of stranded) {
      if (peer.direction === 'publish') this.onSelfClose(peer, 'worker-died');
    }
    const moving = stranded.filter((p) => !p.isClosed && this.peers.has(p.ref.sessionId));
    await Promise.all(moving.map((peer) => this.move(peer)));
    const moved = moving.filter((p) => !p.isClosed);
    // What the moved sessions send starts again; after a new primary, everyone's voice is
    // watched there again and the pipes to other instances are set up again.
    for (const peer of moved) {
      const home = this.homes.get(peer);
      for (const producer of peer.producers) {
        if (home) this.routers.produced(producer, home);
        this.trackList.add(producer);
      }
    }
    for (const peer of primaryReplaced ? this.sessions : moved) {
      for (const producer of peer.producers) {
        this.onPrimary(producer, (copy) => {
          this.watchVoice(copy);
          if (!primaryReplaced) this.pipes?.producerStarted(producer);
        });
      }
    }
    for (const peer of this.sessions) if (peer.isReady) this.onReady(peer);
    for (const peer of moved) if (peer.isReady) peer.requestOffer();
    if (primaryReplaced) void this.pipes?.reset();
    this.logger.log(
      `call recovered [callId=${this.callId}, workerPids=${this.workerPids.join('/')}, moved=${moved.length}, ms=${Date.now() - started}]`,
    );
  }

  /**
   * A peer on the router it is placed on. When that router's worker dies while the peer is being
   * made, it is made again where the call then is (once the call has recovered).
   */
  private async openPeer(
    ref: MediaSessionRef,
    options: MediaSessionOptions,
  ): Promise<{ peer: SfuPeer; home: RoomRouter }> {
    for (let attempt = 1; ; attempt++) {
      if (this.recovering) await this.recovering;
      const home = await this.routers.place();
      try {
        return { peer: await SfuPeer.create(ref, this.peerContext(home), options), home };
      } catch (err) {
        this.routers.leave(home);
        if (!home.closed || this.closed || attempt >= MAX_OPEN_ATTEMPTS) throw err;
        this.logger.warn(
          `worker died while a session opened, opening it again [callId=${this.callId}, sessionId=${ref.sessionId}]`,
        );
        // The death's recovery starts on the next turn of the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Moves a peer whose router died to a newly placed router. */
  private async move(peer: SfuPeer): Promise<void> {
    const dead = this.homes.get(peer);
    if (!dead) return;
    const home = await this.routers.place();
    this.homes.set(peer, home);
    try {
      await peer.migrate(this.peerContext(home));
    } catch (err) {
      this.logger.warn(`session cannot move [${peer.context}]: ${(err as Error).message}`);
      this.onSelfClose(peer, 'worker-died');
    }
  }
}
