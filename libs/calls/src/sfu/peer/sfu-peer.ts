import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import type {
  IceRestartInitiator,
  MediaConsumerLabel,
  MediaIceCandidate,
  MediaOfferTrack,
  MediaSessionCloseReason,
  MediaSessionDirection,
  MediaSessionOptions,
  MediaSessionRef,
  MediaSignal,
  MediaTrack,
  MediaTrackPreference,
  MediaTrackType,
  MediaVideoLayer,
} from '../../media/media-plane.interface';
import { ConsumerPreferences } from './consumer-preferences';
import type { PeerDataChannelSpec, PeerDataChannels } from './peer-data-channels.interface';
import { parseClientDescription } from '../sdp/client-description.parser';
import type { ClientDescription, ClientSection } from '../sdp/sdp.types';
import type { AcceptedSendSection } from '../sdp/send-section.acceptor';
import type { IceRestartSettings } from './ice-restart.policy';
import { NegotiationQueue } from './negotiation-queue';
import { PeerNegotiator } from './peer-negotiator';
import { consumerLabelOf } from './consumer-label';
import { mediaType, produce, producerTrack, type SfuProducerAppData } from './peer-producers';
import { PeerSlots } from './peer-slots';
import { PeerTransport } from './peer-transport';

/** What a peer needs from its room and the service. */
export interface PeerContext {
  readonly router: ms.Router;
  readonly createTransport: (ref: MediaSessionRef) => Promise<ms.WebRtcTransport>;
  readonly dataRelay: PeerDataChannels;
  readonly maxSdpBytes: number;
  readonly signalingTimeoutMs: number;
  readonly iceRestart: IceRestartSettings;
  readonly signal: (ref: MediaSessionRef, signal: MediaSignal) => void;
  /** A message the peer's client sent on a labelled data channel. */
  readonly data: (
    ref: MediaSessionRef,
    label: string,
    payload: Uint8Array,
    binary: boolean,
  ) => void;
  /** The consumers of the server offer about to be sent to the peer's client. */
  readonly offerTracks: (ref: MediaSessionRef, tracks: readonly MediaOfferTrack[]) => void;
  /** A producer of this peer started (the room lets the others consume it). */
  readonly onProducer: (peer: SfuPeer, producer: ms.Producer<SfuProducerAppData>) => void;
  /** The peer's first offer was answered: it can now receive the others' media. */
  readonly onReady: (peer: SfuPeer) => void;
  /** The peer closed itself (ICE/DTLS failure, restarts exhausted, …). */
  readonly onSelfClose: (peer: SfuPeer, reason: MediaSessionCloseReason) => void;
  /** The peer's ICE was restarted (new server credentials). */
  readonly iceRestarted: (ref: MediaSessionRef, initiator: IceRestartInitiator) => void;
}

/**
 * One session's media: a WebRTC transport (BUNDLE, ICE-lite, DTLS/SRTP, SCTP), a producer for
 * every stream the client sends, a consumer for everything the others send, the `calls-dc` data
 * channel, and the SDP offer/answer with the client (it offers first; the server offers when
 * consumers come and go). Every step runs through one serial queue. The server is the impolite
 * peer: a client offer that crosses a pending server offer waits for the answer. A `publish`
 * session only sends (no consumers, no server offers), a `subscribe` one only receives (the
 * server offers first); see {@link MediaSessionDirection}.
 *
 * The composition of three parts: {@link PeerTransport} (ICE, DTLS, data channel, migration),
 * {@link PeerSlots} (m-sections and consumers) and {@link PeerNegotiator} (offer/answer, glare).
 * The peer itself keeps what the session sends (mute, screen share) and its lifecycle.
 */
export class SfuPeer {
  private readonly logger = new Logger(SfuPeer.name);
  private readonly queue = new NegotiationQueue();
  private readonly transport: PeerTransport;
  private readonly slots: PeerSlots;
  private readonly negotiator: PeerNegotiator;
  private muted = false;
  /** Client track ids (or producer ids) paused one by one (`setTrackPaused`). */
  private readonly pausedTracks = new Set<string>();
  private screenStreamId: string | null = null;
  /** The MediaStream of the session's camera: video outside it and the screen is not forwarded. */
  private cameraStreamId: string | null = null;
  /** Layers the client described, by client track id. */
  private readonly trackLayers = new Map<string, MediaVideoLayer[]>();
  private closed = false;
  /** Who waits for the peer to move to another router after its worker died. */
  private readonly moveWaiters: (() => void)[] = [];
  /** Which way the session's media goes. */
  readonly direction: MediaSessionDirection;
  /** The participant's session: its producers carry it, and it receives none of its tracks. */
  readonly ownerSessionId: string;
  /** The client's data channels: Mattermost's `calls-dc`, or channels by label. */
  private readonly dataChannels: PeerDataChannelSpec;

  private constructor(
    readonly ref: MediaSessionRef,
    private ctx: PeerContext,
    options: MediaSessionOptions,
  ) {
    this.direction = options.direction ?? 'both';
    this.ownerSessionId = options.ownerSessionId ?? ref.sessionId;
    this.muted = options.muted ?? false;
    const labels = options.dataChannels;
    this.dataChannels = labels
      ? {
          kind: 'labelled',
          labels: [...labels],
          received: (label, payload, binary) => this.ctx.data(this.ref, label, payload, binary),
        }
      : { kind: 'calls-dc' };
    const label = options.consumerLabel;
    this.transport = new PeerTransport(ctx.iceRestart, {
      context: this.context,
      signal: (signal) => this.ctx.signal(this.ref, signal),
      clientRestartedIce: () => this.ctx.iceRestarted(this.ref, 'client'),
      restartIce: (attempt) => void this.restartIce(attempt),
      fail: (reason) => this.selfClose(reason),
    });
    this.slots = new PeerSlots(
      {
        sessionId: ref.sessionId,
        context: this.context,
        isClosed: () => this.closed,
        router: () => this.ctx.router,
        transport: () => this.transport.current,
        bundles: () => this.negotiator.bundles,
        knowledge: () => this.negotiator.knowledge,
        consumerGone: () => this.negotiator.markDirty(),
        consumerLabel: label ? (producer) => this.consumerLabel(label, producer) : () => undefined,
      },
      new ConsumerPreferences(options.cameraPreference),
    );
    this.negotiator = new PeerNegotiator(this.queue, this.slots, this.transport, {
      ref,
      direction: this.direction,
      context: this.context,
      isClosed: () => this.closed,
      router: () => this.ctx.router,
      dataRelay: () => this.ctx.dataRelay,
      dataChannels: this.dataChannels,
      signalingTimeoutMs: ctx.signalingTimeoutMs,
      signal: (signal) => this.ctx.signal(this.ref, signal),
      offerTracks: (tracks) => this.ctx.offerTracks(this.ref, tracks),
      createProducer: (mid, accepted, section) => this.createProducer(mid, accepted, section),
      producerStarted: (producer) => this.ctx.onProducer(this, producer),
      ready: () => this.ctx.onReady(this),
      fail: (reason) => this.selfClose(reason),
    });
  }

  /** Creates the peer and its transport. */
  static async create(
    ref: MediaSessionRef,
    ctx: PeerContext,
    options: MediaSessionOptions = {},
  ): Promise<SfuPeer> {
    const peer = new SfuPeer(ref, ctx, options);
    peer.transport.use(await ctx.createTransport(ref));
    return peer;
  }

  /** `[key=value]` log context. */
  get context(): string {
    return `callId=${this.ref.callId}, sessionId=${this.ref.sessionId}`;
  }

  /** Whether the peer is closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Whether the peer can receive the others' media: the client's first offer has been answered
   * (a `subscribe` peer is ready at once).
   */
  get isReady(): boolean {
    return this.negotiator.isReady;
  }

  /**
   * Whether the peer is to receive `producer`: it receives at all (not `publish`), and the
   * producer is not one of its own participant's.
   */
  receives(producer: ms.Producer): boolean {
    if (this.direction === 'publish') return false;
    return (producer.appData as Partial<SfuProducerAppData>).sessionId !== this.ownerSessionId;
  }

  /** The peer's live producers. */
  get producers(): ms.Producer<SfuProducerAppData>[] {
    return this.slots.producers;
  }

  /** The peer's live consumers. */
  get consumers(): ms.Consumer[] {
    return this.slots.consumers;
  }

  /** Whether the transport is open. */
  get hasTransport(): boolean {
    return this.transport.isOpen;
  }

  /**
   * Applies a client description: an offer is answered (or deferred while a server offer is
   * pending), an answer completes the pending server offer.
   */
  async handleDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    let parsed: ClientDescription;
    try {
      parsed = parseClientDescription(description.type, description.sdp, this.ctx.maxSdpBytes);
    } catch (err) {
      if (err instanceof InvalidSdpError) throw new InvalidSdpError(err.reason, this.ref.sessionId);
      throw err;
    }
    const router = this.ctx.router;
    try {
      await this.queue.run(() => this.negotiator.apply(parsed));
    } catch (err) {
      if (parsed.type !== 'offer' || this.closed || !router.closed) throw err;
      // The worker died under the offer (an offer is applied producers first, undone when they
      // fail): it is answered again once the call has moved the peer to another router.
      this.logger.warn(
        `worker died under a client offer, answering it after the move [${this.context}]`,
      );
      if (this.ctx.router === router) await this.movedOrClosed(2 * this.ctx.signalingTimeoutMs);
      if (this.closed || this.ctx.router.closed) throw err;
      await this.queue.run(() => this.negotiator.apply(parsed));
    }
  }

  /**
   * Validates a client candidate; candidates before the first description are queued. mediasoup
   * is ICE-lite (it answers the client's checks), so a valid candidate needs nothing else.
   */
  addIceCandidate(input: MediaIceCandidate): void {
    this.transport.addCandidate(input);
  }

  /** Pauses or resumes the peer's voice producers (forwarding stops while paused). */
  async setAudioMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    await this.applyPauses(this.producers.filter((p) => p.appData.type === 'voice'));
  }

  /**
   * Pauses or resumes one track the peer sends, named by its producer id or its client track id
   * (remembered by client track id for producers made later). A voice track of a muted session
   * stays paused.
   */
  async setTrackPaused(track: string, paused: boolean): Promise<void> {
    const producer = this.producers.find((p) => p.id === track);
    const key = producer?.appData.trackId || track;
    if (paused) this.pausedTracks.add(key);
    else this.pausedTracks.delete(key);
    await this.applyPauses(
      this.producers.filter((p) => p === producer || (!!key && p.appData.trackId === key)),
    );
  }

  /**
   * Sends a binary message on the client's data channel of `label` (sessions with labelled
   * channels).
   * @returns false when the session has no such channel or is not connected yet
   */
  sendData(label: string, payload: Uint8Array): boolean {
    return !this.closed && this.transport.sendData(label, payload);
  }

  /** The client reconnected: an unanswered server offer is sent again (see {@link PeerNegotiator.clientReconnected}). */
  clientReconnected(): void {
    if (!this.closed) this.negotiator.clientReconnected();
  }

  /** Labels the video (and audio) of the given MediaStream as the screen share. */
  async setScreenStream(streamId: string | null): Promise<void> {
    this.screenStreamId = streamId;
    for (const { appData, kind } of this.producers) {
      appData.type = mediaType(kind, appData.streamId, streamId);
    }
    await this.applyPauses(this.producers.filter((p) => p.kind === 'video'));
  }

  /** Names the camera's MediaStream: its video is forwarded, other unlabelled video is not. */
  async setCameraStream(streamId: string | null): Promise<void> {
    this.cameraStreamId = streamId;
    await this.applyPauses(this.producers.filter((p) => p.kind === 'video'));
  }

  /**
   * The simulcast layers the client describes for one of its video tracks (remembered for a
   * track that starts later).
   * @returns whether a live producer took them (its labels changed)
   */
  setTrackLayers(clientTrackId: string, layers: readonly MediaVideoLayer[]): boolean {
    this.trackLayers.set(clientTrackId, [...layers]);
    let changed = false;
    for (const { appData, kind } of this.producers) {
      if (kind !== 'video' || appData.trackId !== clientTrackId) continue;
      appData.layers = [...layers];
      changed = true;
    }
    return changed;
  }

  /**
   * How this session wants another session's video track forwarded to it (see
   * {@link ConsumerPreferences}); kept for a consumer made later.
   */
  setTrackPreference(producerId: string, preference: MediaTrackPreference): Promise<void> {
    return this.queue.run(() => this.slots.prefer(producerId, preference));
  }

  /** The labels of producers this session consumes changed: their consumers are set again. */
  refreshConsumers(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queue.run(() => this.slots.refresh());
  }

  /**
   * Starts consuming another peer's producer: a paused consumer in a reused or new server slot
   * (resumed once the client has the description), then a server offer. Skipped when the client
   * cannot receive the producer's codec (`router.canConsume`).
   */
  consume(producer: ms.Producer): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed || producer.closed || !this.transport.isOpen) return;
      if (await this.slots.consume(producer)) this.negotiator.markDirty();
    });
  }

  /**
   * Moves the peer to a new router after its worker died: a new transport and the client's
   * producers re-created from what was negotiated. The room then re-links the consumers and
   * calls {@link requestOffer}: the server offer carries the new ICE and DTLS parameters.
   */
  migrate(ctx: PeerContext): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.ctx = ctx;
      await this.transport.moveTo(() => ctx.createTransport(this.ref));
      await this.slots.recreateProducers((mid, accepted, section) =>
        this.createProducer(mid, accepted, section),
      );
      if (this.slots.hasDataChannel) {
        await this.transport.attachDataChannel(ctx.dataRelay, this.dataChannels);
      }
      this.negotiator.markDirtyWithoutOffer();
      // A subscribe-only peer that was never offered anything has no client to wait for.
      if (this.negotiator.isReady && this.slots.list.length > 0) {
        this.transport.armMigrationDeadline(2 * this.ctx.signalingTimeoutMs);
      }
      this.moved();
    });
  }

  /** Sends a server offer after everything queued before it (used after a migration). */
  requestOffer(): void {
    this.negotiator.markDirty();
  }

  /** Closes the transport (and with it producers, consumers and data channel) and every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.moved();
    this.queue.close();
    this.negotiator.close();
    this.transport.close();
  }

  /** Resolves once the peer moved to another router or closed, or after `ms`. */
  private movedOrClosed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.moveWaiters.push(done);
    });
  }

  /** Frees whoever waits for the peer to move ({@link movedOrClosed}). */
  private moved(): void {
    for (const done of this.moveWaiters.splice(0)) done();
  }

  private async restartIce(attempt: number): Promise<void> {
    if (this.direction === 'publish') {
      // No server offer can carry new credentials: the client restarts ICE with an offer.
      this.logger.log(
        `waiting for the client to restart ICE [${this.context}, attempt=${attempt}]`,
      );
      return;
    }
    await this.queue
      .run(async () => {
        if (this.closed || !this.transport.isOpen) return;
        this.logger.log(`restarting ICE [${this.context}, attempt=${attempt}]`);
        await this.transport.restartIce();
        this.ctx.iceRestarted(this.ref, 'server');
        this.negotiator.markDirty();
      })
      .catch((err: Error) =>
        this.logger.warn(`ICE restart failed [${this.context}]: ${err.message}`),
      );
  }

  private selfClose(reason: MediaSessionCloseReason): void {
    if (this.closed) return;
    this.logger.warn(`closing session [${this.context}, reason=${reason}]`);
    this.close();
    this.ctx.onSelfClose(this, reason);
  }

  private createProducer(
    mid: string,
    accepted: AcceptedSendSection,
    section: ClientSection,
  ): Promise<ms.Producer<SfuProducerAppData>> {
    return produce(this.transport.current, {
      ref: this.ref,
      ownerSessionId: this.ownerSessionId,
      mid,
      kind: section.kind === 'video' ? 'video' : 'audio',
      streamId: section.msid?.streamId ?? mid,
      trackId: section.msid?.trackId ?? '',
      accepted,
      screenStreamId: this.screenStreamId,
      layers: this.trackLayers.get(section.msid?.trackId ?? ''),
      paused: (type, trackId, streamId) => this.shouldPause(type, trackId, streamId),
    });
  }

  /**
   * Whether a producer of `type`, client track id and stream id is to be paused now: a muted
   * voice, a track paused by itself, or video that is neither the screen nor the camera.
   */
  private shouldPause(type: MediaTrackType, trackId: string, streamId: string): boolean {
    return (
      (type === 'voice' && this.muted) ||
      (!!trackId && this.pausedTracks.has(trackId)) ||
      (type === 'video' && streamId !== this.cameraStreamId)
    );
  }

  /** Brings the producers' pause state in line with the session's mute and paused tracks. */
  private async applyPauses(producers: ms.Producer<SfuProducerAppData>[]): Promise<void> {
    await Promise.all(
      producers.map((p) => {
        const { type, trackId, streamId } = p.appData;
        const pause =
          this.shouldPause(type, trackId ?? '', streamId) || this.pausedTracks.has(p.id);
        // Unconditional: `paused` flips only when a request completes, and they run in order.
        return pause ? p.pause() : p.resume();
      }),
    );
  }

  private consumerLabel(
    label: (track: MediaTrack) => MediaConsumerLabel,
    producer: ms.Producer,
  ): MediaConsumerLabel | undefined {
    return consumerLabelOf(label, producerTrack(this.ref.callId, producer), (err) =>
      this.logger.warn(`consumer label refused, default used [${this.context}]: ${err}`),
    );
  }
}
