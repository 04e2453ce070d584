import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { SfuSessionExistsError } from '../errors/sfu-session-exists.error';
import { SfuSessionNotFoundError } from '../errors/sfu-session-not-found.error';
import { SfuUnavailableError } from '../errors/sfu-unavailable.error';
import type {
  MediaIceCandidate,
  MediaPlane,
  MediaPlaneListener,
  MediaSessionOptions,
  MediaSessionRef,
  MediaStats,
  MediaTrack,
  MediaWorkerUsage,
} from '../media/media-plane.interface';
import { MediaListeners } from './media-listeners';
import { sfuNetworkSettings, type SfuNetworkSettings } from './workers/sfu-network';
import type { SfuPeer } from './peer/sfu-peer';
import { InjectRoomPipesFactory, type RoomPipesFactory } from './pipe/room-pipes-factory.interface';
import { RoomRegistry } from './room/room-registry';
import { type RoomContext, SfuRoom } from './room/sfu-room';
import { WorkerPool } from './workers/worker-pool';

/**
 * The SFU: real media through mediasoup for every call on this instance, with SDP offer/answer
 * that stock WebRTC clients speak (the client offers first; the server sends offers when others'
 * tracks come and go). Workers start with the module and stop with the application; each call
 * gets a router on the least loaded worker, each session one WebRTC transport. The rooms are the
 * only index of the sessions. With a {@link RoomPipesFactory}, rooms are piped to the other
 * instances serving their calls.
 *
 * Events ({@link SfuService.subscribe}): `signal` (to deliver to the session's client), `voice`
 * (speaking on/off), `sessionClosed` (the SFU gave a session up), `iceRestart`, `offerTracks`
 * (the consumers of the next server offer), `trackAdded`/`trackPaused`/`trackRemoved` (every
 * producer of a call served here, local or piped in), `data` (messages on labelled data channels).
 */
@Injectable()
export class SfuService implements MediaPlane, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SfuService.name);
  private readonly listeners = new MediaListeners();
  private readonly network: SfuNetworkSettings;
  private pool: WorkerPool | null = null;
  private readonly rooms = new RoomRegistry<SfuRoom>();
  private readonly pipes: RoomPipesFactory | null;
  private shuttingDown = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @Optional() @InjectRoomPipesFactory() pipes?: RoomPipesFactory,
  ) {
    this.network = sfuNetworkSettings(options);
    this.pipes = pipes ?? null;
  }

  /** Starts the media workers (none when `rtcWorkers` is 0). */
  async onModuleInit(): Promise<void> {
    if (this.options.rtcWorkers === 0) {
      this.logger.warn('media disabled on this instance [rtcWorkers=0]');
      return;
    }
    const pool = new WorkerPool({ count: this.options.rtcWorkers, network: this.network });
    await pool.start();
    this.pool = pool;
    const mode =
      this.network.udpPort > 0
        ? `udpPort=${this.network.udpPort}+i, tcpPort=${this.network.enableTcp ? this.network.tcpPort : 'off'}`
        : `ports=${this.network.portRange.min}-${this.network.portRange.max}, tcp=${this.network.enableTcp}`;
    this.logger.log(
      `media workers started [workers=${this.options.rtcWorkers}, listenIp=${this.network.listenIp}, announced=${this.network.announcedAddress ?? this.network.listenIp}, ${mode}]`,
    );
  }

  /** Closes every call (children first), then the workers, waiting for their processes. */
  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.rooms.settled();
    this.rooms.closeAll();
    await this.pool?.close();
    this.pool = null;
  }

  /**
   * Opens a session's media: the call's room (a router on the least loaded worker; created once
   * per call even under concurrent calls) and a peer with one WebRTC transport. The client's
   * first offer follows through {@link handleDescription} (a `subscribe` session gets a server
   * offer instead, once the call has a track for it). With `muted`, the voice the session
   * sends is not forwarded until {@link setAudioMuted}(sessionId, false).
   * @throws SfuUnavailableError when no worker runs
   * @throws SfuSessionExistsError when the session is already open
   */
  async openSession(ref: MediaSessionRef, options: MediaSessionOptions = {}): Promise<void> {
    if (this.hasSession(ref.sessionId)) throw new SfuSessionExistsError(ref.sessionId, ref.callId);
    const room = await this.room(ref.callId);
    try {
      if (this.hasSession(ref.sessionId)) {
        throw new SfuSessionExistsError(ref.sessionId, ref.callId);
      }
      await room.addPeer({ ...ref }, options);
    } finally {
      this.closeIfEmpty(room);
    }
  }

  /**
   * Applies a client's offer (answered with a `signal` of type `answer`) or answer (to the
   * server's pending offer).
   * @throws SfuSessionNotFoundError, MessageTooLargeError, InvalidSdpError, NoCommonCodecError,
   *   UnexpectedSdpAnswerError — the session and everything else stay as they were
   */
  async handleDescription(
    sessionId: string,
    description: { type: 'offer' | 'answer'; sdp: string },
  ): Promise<void> {
    await this.peer(sessionId).handleDescription(description);
  }

  /**
   * Takes a client ICE candidate: validated, queued until the first description, otherwise
   * nothing to do (the server is ICE-lite). Empty candidates (end of candidates) are ignored.
   * @throws SfuSessionNotFoundError, InvalidMessageError (a malformed candidate)
   */
  async addIceCandidate(sessionId: string, candidate: MediaIceCandidate): Promise<void> {
    this.peer(sessionId).addIceCandidate(candidate);
    await Promise.resolve();
  }

  /**
   * Pauses (muted) or resumes the session's voice producers: forwarding stops and starts, and a
   * muted session is reported silent. Remembered for voice tracks that start later.
   * @throws SfuSessionNotFoundError
   */
  async setAudioMuted(sessionId: string, muted: boolean): Promise<void> {
    await this.peer(sessionId).setAudioMuted(muted);
  }

  /**
   * Pauses or resumes one track the session sends (by producer id or client track id; remembered
   * by client track id for tracks that start later). Voice of a muted session stays paused.
   * @throws SfuSessionNotFoundError
   */
  async setTrackPaused(sessionId: string, track: string, paused: boolean): Promise<void> {
    await this.peer(sessionId).setTrackPaused(track, paused);
  }

  /** The tracks of a call served here (local and piped in), in the order they started. */
  tracksOf(callId: string): MediaTrack[] {
    return this.rooms.get(callId)?.tracks() ?? [];
  }

  /**
   * Sends a binary message on the session's client data channel of `label` (a session opened
   * with `dataChannels`), reliably and in order.
   * @returns false when the session is not here, has no such channel or is not connected yet
   */
  sendData(sessionId: string, label: string, payload: Uint8Array): boolean {
    return this.find(sessionId)?.peer.sendData(label, payload) ?? false;
  }

  /**
   * Names the MediaStream of the session's screen share (Mattermost `screen_on` carries it):
   * its video is labelled `screen` (and its audio `screen-audio`); `null` ends the labelling.
   * @throws SfuSessionNotFoundError
   */
  setScreenStream(sessionId: string, streamId: string | null): void {
    const { room, peer } = this.entry(sessionId);
    peer.setScreenStream(streamId);
    room.producersChanged(peer);
  }

  /** See {@link MediaPlane.clientReconnected}. */
  clientReconnected(sessionId: string): void {
    this.find(sessionId)?.peer.clientReconnected();
  }

  /**
   * Closes a session's transport, producers and consumers; the others get server offers
   * without its tracks. Unknown sessions are ignored. No `session-closed` event follows.
   */
  async closeSession(sessionId: string): Promise<void> {
    const entry = this.find(sessionId);
    if (!entry) return;
    entry.room.removePeer(sessionId);
    this.closeIfEmpty(entry.room);
    await Promise.resolve();
  }

  /** Closes a call: every session, then its router. No `session-closed` events follow. */
  async closeCall(callId: string): Promise<void> {
    await this.rooms.settled(callId);
    const room = this.rooms.get(callId);
    if (!room) return;
    this.rooms.delete(room);
    room.close();
  }

  /** Whether the session has open media on this instance. */
  hasSession(sessionId: string): boolean {
    return this.find(sessionId) !== undefined;
  }

  /**
   * Counts of live workers, routers, session transports, producers and consumers of the sessions
   * served here, and pipe transports to and from other instances.
   */
  stats(): MediaStats {
    const rooms = this.rooms.all();
    const peers = rooms.flatMap((r) => r.sessions);
    return {
      workers: this.pool?.workers.length ?? 0,
      routers: rooms.reduce((n, r) => n + r.routerCount, 0),
      transports: peers.filter((p) => p.hasTransport).length,
      producers: peers.reduce((n, p) => n + p.producers.length, 0),
      consumers: peers.reduce((n, p) => n + p.consumers.length, 0),
      pipes: rooms.reduce((n, r) => n + r.pipeCount, 0),
    };
  }

  /**
   * Registers a listener of the SFU's events; one that throws is logged and disturbs nothing.
   * @returns a function that removes it
   */
  subscribe(listener: MediaPlaneListener): () => void {
    return this.listeners.add(listener);
  }

  /** PIDs of the running media workers (diagnostics, tests). */
  workerPids(): number[] {
    return (this.pool?.workers ?? []).map((w) => w.worker.pid);
  }

  /** CPU time each running worker has used so far, user plus system (for metrics). */
  async workerUsage(): Promise<MediaWorkerUsage[]> {
    const workers = this.pool?.workers ?? [];
    const usage = await Promise.all(
      workers.map(async ({ worker }) => {
        try {
          const u = await worker.getResourceUsage();
          return [{ pid: worker.pid, cpuSeconds: (u.ru_utime + u.ru_stime) / 1000 }];
        } catch {
          return []; // died or closing meanwhile
        }
      }),
    );
    return usage.flat();
  }

  /** PID of the worker that runs a call's (primary) router (diagnostics, tests). */
  callWorkerPid(callId: string): number | undefined {
    return this.rooms.get(callId)?.workerPid;
  }

  /** PIDs of the workers that run a call's routers, the primary's first (diagnostics, tests). */
  callWorkerPids(callId: string): number[] {
    return this.rooms.get(callId)?.workerPids ?? [];
  }

  /** PID of the worker whose router holds a session's transport (diagnostics, tests). */
  sessionWorkerPid(sessionId: string): number | undefined {
    return this.find(sessionId)?.room.sessionWorkerPid(sessionId);
  }

  private peer(sessionId: string): SfuPeer {
    return this.entry(sessionId).peer;
  }

  private entry(sessionId: string): { room: SfuRoom; peer: SfuPeer } {
    const entry = this.find(sessionId);
    if (!entry) throw new SfuSessionNotFoundError(sessionId);
    return entry;
  }

  /** The session's room and peer, looked up in the rooms (the only index of sessions). */
  private find(sessionId: string): { room: SfuRoom; peer: SfuPeer } | undefined {
    for (const room of this.rooms.all()) {
      const peer = room.peer(sessionId);
      if (peer) return { room, peer };
    }
    return undefined;
  }

  /** The call's room, created once even when several sessions open at the same time. */
  private room(callId: string): Promise<SfuRoom> {
    if (this.shuttingDown) throw new SfuUnavailableError('shutting down');
    const pool = this.pool;
    if (!pool) throw new SfuUnavailableError('media is disabled on this instance (rtcWorkers=0)');
    return this.rooms.getOrCreate(callId, (id) => SfuRoom.create(id, this.roomContext(pool)));
  }

  private closeIfEmpty(room: SfuRoom): void {
    if (!room.isEmpty || room.isClosed) return;
    this.rooms.delete(room);
    room.close();
  }

  private roomContext(pool: WorkerPool): RoomContext {
    const o = this.options;
    return {
      pool,
      maxSessionsPerRouter: o.maxSessionsPerRouter,
      network: this.network,
      maxSdpBytes: o.maxSdpBytes,
      signalingTimeoutMs: o.signalingTimeoutMs,
      iceConsentTimeoutSec: o.iceConsentTimeoutSec,
      iceRestart: {
        graceMs: o.iceDisconnectGraceMs,
        maxAttempts: o.iceRestartMaxAttempts,
        backoffMs: o.iceRestartBackoffMs,
      },
      signal: (ref, signal) => this.listeners.emit('signal', ref, signal),
      offerTracks: (ref, tracks) => this.listeners.emit('offerTracks', ref, tracks),
      data: (ref, label, payload, binary) =>
        this.listeners.emit('data', ref, label, payload, binary),
      tracks: {
        added: (callId, track) => this.listeners.emit('trackAdded', callId, track),
        removed: (callId, producerId) => this.listeners.emit('trackRemoved', callId, producerId),
        paused: (callId, producerId, paused) =>
          this.listeners.emit('trackPaused', callId, producerId, paused),
      },
      voice: (ref, speaking) => this.listeners.emit('voice', ref, speaking),
      iceRestarted: (ref, initiator) => this.listeners.emit('iceRestart', ref, initiator),
      pipes: this.pipes,
      sessionClosed: (room, ref, reason) => {
        this.closeIfEmpty(room);
        this.listeners.emit('sessionClosed', ref, reason);
      },
    };
  }
}
