import { randomBytes, randomInt } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { UnexpectedSdpAnswerError } from '../../errors/unexpected-sdp-answer.error';
import { ClientKnowledge } from './client-knowledge';
import type { DataChannelAttachment, DataChannelRelay } from '../room/data-channel.relay';
import { answerSetup, clientDtlsRole, connectionStateSignal } from './dtls-roles';
import { IceRestartPolicy, type IceRestartSettings } from './ice-restart.policy';
import { NegotiationQueue } from './negotiation-queue';
import { consumerMedia, describeSlot } from './peer-description.builder';
import { clientSends, planClientOffer } from './peer-offer.plan';
import { mediaType, produce, type SfuProducerAppData } from './peer-producers';
import { newSlot, type PeerSlot, reusableSlot } from './peer-slot';
import { BundleRegistry } from '../sdp/bundle-registry';
import { parseClientDescription } from '../sdp/client-description.parser';
import { consumeCapabilities, consumerFits } from '../sdp/consume-capabilities';
import { type ParsedIceCandidate, parseClientIceCandidate } from '../sdp/ice-candidate';
import type { LocalSection } from '../sdp/local-description';
import { writeLocalDescription } from '../sdp/sdp-writer';
import type { ClientDescription, ClientSection, DtlsSetup } from '../sdp/sdp.types';
import { type AcceptedSendSection, commonCodecs } from '../sdp/send-section.acceptor';
import { serverCandidateSignals } from './server-candidates';
import type {
  MediaIceCandidate,
  IceRestartInitiator,
  MediaSessionCloseReason,
  MediaSessionOptions,
  MediaSessionRef,
  MediaSignal,
} from '../../media/media-plane.interface';

/** What a peer needs from its room and the service. */
export interface PeerContext {
  readonly router: ms.Router;
  readonly createTransport: (ref: MediaSessionRef) => Promise<ms.WebRtcTransport>;
  readonly dataRelay: DataChannelRelay;
  readonly maxSdpBytes: number;
  readonly signalingTimeoutMs: number;
  readonly iceRestart: IceRestartSettings;
  readonly signal: (ref: MediaSessionRef, signal: MediaSignal) => void;
  /** A producer of this peer started (the room lets the others consume it). */
  readonly onProducer: (peer: SfuPeer, producer: ms.Producer<SfuProducerAppData>) => void;
  /** The peer's first offer was answered: it can now receive the others' media. */
  readonly onReady: (peer: SfuPeer) => void;
  /** The peer closed itself (ICE/DTLS failure, restarts exhausted, …). */
  readonly onSelfClose: (peer: SfuPeer, reason: MediaSessionCloseReason) => void;
  /** The peer's ICE was restarted (new server credentials). */
  readonly iceRestarted: (ref: MediaSessionRef, initiator: IceRestartInitiator) => void;
}

/** A server offer waiting for the client's answer. */
interface PendingOffer {
  /** Server slots this offer adds (taken back if the offer is given up). */
  readonly added: PeerSlot[];
  /** Server slots and the consumer the offer sends in each (`null`: inactive). */
  readonly included: Map<PeerSlot, ms.Consumer | null>;
  /** The transport whose ICE/DTLS parameters the offer carried. */
  readonly transportGeneration: number;
  /** The numbering before the offer (restored if the offer is given up: the client never took it). */
  readonly registryBefore: BundleRegistry;
  readonly timer: NodeJS.Timeout;
}

const MAX_QUEUED_CANDIDATES = 64;
/** How long a reclaimed mid waits for the client's next offer before the server offers it. */
const RECLAIM_OFFER_DELAY_MS = 1000;

/**
 * One session's media: a WebRTC transport (BUNDLE, ICE-lite, DTLS/SRTP, SCTP), a producer for
 * every stream the client sends, a consumer for everything the others send, the `calls-dc` data
 * channel, and the SDP offer/answer with the client (it offers first; the server offers when
 * consumers come and go). Every step runs through one serial queue. The server is the impolite
 * peer: a client offer that crosses a pending server offer waits for the answer.
 */
export class SfuPeer {
  private readonly logger = new Logger(SfuPeer.name);
  private readonly queue = new NegotiationQueue();
  private registry = new BundleRegistry();
  private readonly knowledge = new ClientKnowledge();
  private readonly originSessionId = String(randomInt(1, 2 ** 47));
  private readonly iceRestart: IceRestartPolicy;

  /** Negotiated (or offered) sections in order. */
  private slots: PeerSlot[] = [];
  /** Server slots with a consumer that no offer has carried yet. */
  private floating: PeerSlot[] = [];
  /** Floating slots without a consumer that are offered all the same (see reclaimRolledBackMids). */
  private readonly reclaimed = new Set<PeerSlot>();
  private serverMids = 0;
  private originVersion = 1;
  private signalingState: 'stable' | 'have-local-offer' = 'stable';
  private pending: PendingOffer | null = null;
  private parked: ClientDescription | null = null;
  private dirty = false;
  private offerQueued = false;
  private ready = false;

  private transport!: ms.WebRtcTransport;
  private transportGeneration = 0;
  private connected = false;
  private serverSetup: DtlsSetup = 'passive';
  private remoteIce: ClientDescription['ice'] | null = null;
  private remoteFingerprint: string | null = null;
  private iceGeneration = 0;
  private announcedIceGeneration = -1;
  private dataChannel: DataChannelAttachment | null = null;
  private queuedCandidates: ParsedIceCandidate[] = [];
  private hasRemoteDescription = false;
  private migrationDeadline: NodeJS.Timeout | null = null;

  private muted = false;
  private screenStreamId: string | null = null;
  private closed = false;

  private constructor(
    readonly ref: MediaSessionRef,
    private ctx: PeerContext,
  ) {
    this.iceRestart = new IceRestartPolicy(ctx.iceRestart, {
      restart: (attempt) => void this.restartIce(attempt),
      giveUp: (attempts) => {
        this.logger.warn(`ICE restarts exhausted [${this.context}, attempts=${attempts}]`);
        this.selfClose('ice-restart-exhausted');
      },
    });
  }

  /** Creates the peer and its transport. */
  static async create(
    ref: MediaSessionRef,
    ctx: PeerContext,
    options: MediaSessionOptions = {},
  ): Promise<SfuPeer> {
    const peer = new SfuPeer(ref, ctx);
    peer.muted = options.muted ?? false;
    peer.useTransport(await ctx.createTransport(ref));
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

  /** Whether the client's first offer has been answered (it can receive the others' media). */
  get isReady(): boolean {
    return this.ready;
  }

  /** The peer's live producers. */
  get producers(): ms.Producer<SfuProducerAppData>[] {
    return this.slots.flatMap((s) => (s.producer && !s.producer.closed ? [s.producer] : []));
  }

  /** The peer's live consumers. */
  get consumers(): ms.Consumer[] {
    return [...this.slots, ...this.floating].flatMap((s) =>
      s.consumer && !s.consumer.closed ? [s.consumer] : [],
    );
  }

  /** Whether the transport is open. */
  get hasTransport(): boolean {
    return !this.transport.closed;
  }

  // ------------------------------------------------------------------ operations

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
    await this.queue.run(() =>
      parsed.type === 'offer' ? this.onClientOffer(parsed) : this.onClientAnswer(parsed),
    );
  }

  /**
   * Validates a client candidate; candidates before the first description are queued. mediasoup
   * is ICE-lite (it answers the client's checks), so a valid candidate needs nothing else.
   */
  addIceCandidate(input: MediaIceCandidate): void {
    const candidate = parseClientIceCandidate(input);
    if (!candidate) return;
    if (!this.hasRemoteDescription) {
      if (this.queuedCandidates.length < MAX_QUEUED_CANDIDATES) {
        this.queuedCandidates.push(candidate);
      }
      return;
    }
    this.logger.debug(
      `client candidate [${this.context}, ${candidate.protocol} ${candidate.address}:${candidate.port} ${candidate.type}]`,
    );
  }

  /** Pauses or resumes the peer's voice producers (forwarding stops while paused). */
  async setAudioMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    await Promise.all(
      this.producers
        .filter((p) => p.appData.type === 'voice')
        .map((p) => (muted ? p.pause() : p.resume())),
    );
  }

  /** Labels the video (and audio) of the given MediaStream as the screen share. */
  setScreenStream(streamId: string | null): void {
    this.screenStreamId = streamId;
    for (const { appData, kind } of this.producers) {
      appData.type = mediaType(kind, appData.streamId, streamId);
    }
  }

  /**
   * Starts consuming another peer's producer: a paused consumer in a reused or new server slot
   * (resumed once the client has the description), then a server offer. Skipped when the client
   * cannot receive the producer's codec (`router.canConsume`).
   */
  consume(producer: ms.Producer): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed || producer.closed || this.transport.closed) return;
      if (this.consumers.some((c) => c.producerId === producer.id)) return;
      const appData = producer.appData as SfuProducerAppData;
      const sourceKey = `${appData.sessionId}/${appData.mid}`;
      const rtpCapabilities = this.consumeCapabilities(producer.kind);
      if (!this.ctx.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
        this.logger.warn(
          `client cannot receive a producer [${this.context}, producerId=${producer.id}, codec=${producer.rtpParameters.codecs[0]?.mimeType}]`,
        );
        return;
      }
      // A reclaimed mid may still go back to the client (releaseReclaimedMids): not before offered.
      const candidates = [...this.slots, ...this.floating.filter((s) => !this.reclaimed.has(s))];
      let slot = reusableSlot(candidates, producer.kind, sourceKey);
      if (!slot) {
        // Server mids ("s1", …) never collide with the numeric ones browsers generate.
        slot = newSlot(`s${++this.serverMids}`, producer.kind, 'server');
        this.floating.push(slot);
      }
      await this.startConsumer(slot, producer.id, rtpCapabilities, sourceKey);
      if (slot.sourceKey !== sourceKey || !slot.trackId) {
        slot.streamId = `${appData.type}_${appData.sessionId}`;
        slot.trackId = `${appData.type}_${appData.sessionId}_${randomBytes(4).toString('hex')}`;
      }
      slot.sourceKey = sourceKey;
      this.markDirty();
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
      this.dataChannel = null;
      this.useTransport(await ctx.createTransport(this.ref));
      for (const slot of this.slots) {
        slot.producer = undefined;
        if (slot.accepted && slot.client && !slot.rejected) {
          slot.producer = await this.createProducer(slot.mid, slot.accepted, slot.client);
        }
      }
      if (this.slots.some((s) => s.kind === 'application' && !s.rejected)) {
        await this.attachDataChannel();
      }
      this.dirty = true;
      if (this.ready) {
        // A client that cannot follow (no answer, no DTLS restart) is given up as worker-died.
        this.clearMigrationDeadline();
        this.migrationDeadline = setTimeout(() => {
          this.logger.warn(`session did not reconnect after its worker died [${this.context}]`);
          this.selfClose('worker-died');
        }, 2 * this.ctx.signalingTimeoutMs);
        this.migrationDeadline.unref?.();
      }
    });
  }

  /** Sends a server offer after everything queued before it (used after a migration). */
  requestOffer(): void {
    this.markDirty();
  }

  /** Closes the transport (and with it producers, consumers and data channel). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.iceRestart.dispose();
    this.clearMigrationDeadline();
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
    this.dataChannel?.close();
    if (!this.transport.closed) this.transport.close();
  }

  // ------------------------------------------------------------------ transport

  private useTransport(transport: ms.WebRtcTransport): void {
    this.transport = transport;
    this.transportGeneration++;
    this.iceGeneration++;
    this.connected = false;
    const generation = this.transportGeneration;
    const current = () => this.transportGeneration === generation && !this.closed;
    transport.on('icestatechange', (state) => {
      if (!current()) return;
      this.ctx.signal(this.ref, { type: 'ice-state', state });
      this.iceRestart.onIceState(state);
    });
    transport.on('dtlsstatechange', (state) => {
      if (!current()) return;
      const signal = connectionStateSignal(state);
      if (signal) this.ctx.signal(this.ref, { type: 'connection-state', state: signal });
      if (state === 'connected') this.clearMigrationDeadline();
      if (state === 'failed') this.selfClose('dtls-failed');
      else if (state === 'closed') this.selfClose('dtls-closed');
    });
  }

  private async connect(description: ClientDescription, serverSetup: DtlsSetup): Promise<void> {
    const role = clientDtlsRole(description.dtls.setup, serverSetup);
    await this.transport.connect({
      dtlsParameters: { role, fingerprints: [...description.dtls.fingerprints] },
    });
    this.connected = true;
    this.remoteFingerprint = description.dtls.fingerprints[0]?.value ?? null;
    this.logger.debug(`transport connected [${this.context}, clientRole=${role}]`);
  }

  private async restartIce(attempt: number): Promise<void> {
    await this.queue
      .run(async () => {
        if (this.closed || this.transport.closed) return;
        this.logger.log(`restarting ICE [${this.context}, attempt=${attempt}]`);
        await this.transport.restartIce();
        this.iceGeneration++;
        this.ctx.iceRestarted(this.ref, 'server');
        this.markDirty();
      })
      .catch((err: Error) =>
        this.logger.warn(`ICE restart failed [${this.context}]: ${err.message}`),
      );
  }

  private clearMigrationDeadline(): void {
    if (this.migrationDeadline) clearTimeout(this.migrationDeadline);
    this.migrationDeadline = null;
  }

  private async attachDataChannel(): Promise<void> {
    if (this.dataChannel || this.transport.closed) return;
    try {
      this.dataChannel = await this.ctx.dataRelay.attach(this.transport, this.context);
    } catch (err) {
      this.logger.warn(`data channel not attached [${this.context}]: ${(err as Error).message}`);
    }
  }

  private selfClose(reason: MediaSessionCloseReason): void {
    if (this.closed) return;
    this.logger.warn(`closing session [${this.context}, reason=${reason}]`);
    this.close();
    this.ctx.onSelfClose(this, reason);
  }

  // ------------------------------------------------------------------ client offers

  private async onClientOffer(offer: ClientDescription): Promise<void> {
    if (this.closed) return;
    if (this.signalingState === 'have-local-offer') {
      this.logger.debug(`client offer deferred, server offer pending [${this.context}]`);
      this.parked = offer;
      return;
    }
    await this.answer(offer);
  }

  private async answer(offer: ClientDescription): Promise<void> {
    this.releaseReclaimedMids(offer);
    const plan = planClientOffer(
      {
        sessionId: this.ref.sessionId,
        slots: this.slots,
        floating: this.floating,
        remoteFingerprint: this.remoteFingerprint,
        routerCapabilities: this.ctx.router.rtpCapabilities,
        registry: this.registry,
      },
      offer,
    );
    // Producers first: the only step that can still fail, and one that can be undone.
    const created: ms.Producer<SfuProducerAppData>[] = [];
    try {
      for (const { slot, accepted } of plan.produce) {
        const section = offer.sections.find((s) => s.mid === slot.mid);
        if (section) created.push(await this.createProducer(slot.mid, accepted, section));
      }
    } catch (err) {
      created.forEach((p) => p.close());
      throw err;
    }
    if (this.remoteIce && offer.ice.usernameFragment !== this.remoteIce.usernameFragment) {
      // The client restarts ICE: the answer must carry new server credentials.
      this.logger.log(`client restarted ICE [${this.context}]`);
      await this.transport.restartIce();
      this.iceGeneration++;
      this.ctx.iceRestarted(this.ref, 'client');
    }
    this.remoteIce = offer.ice;
    if (!this.connected) {
      this.serverSetup = answerSetup(offer.dtls.setup);
      await this.connect(offer, this.serverSetup);
    }

    this.slots = plan.slots;
    for (const { slot, section } of plan.sections) this.applyClientSection(slot, section);
    plan.produce.forEach(({ slot, accepted }, i) =>
      this.installProducer(slot, created[i], accepted),
    );
    this.knowledge.learn(offer);
    this.registry.learnClient(offer);
    this.hasRemoteDescription = true;
    const refitted = await this.refitConsumers();

    const sections = this.slots.map((slot, i) =>
      describeSlot(slot, this.registry, offer.sections[i]),
    );
    this.sendDescription('answer', sections, this.serverSetup);
    for (const [i, slot] of this.slots.entries()) {
      if (slot.origin !== 'server') continue;
      const sent = sections[i];
      const sends =
        sent.kind !== null &&
        sent.kind !== 'application' &&
        (sent.direction === 'sendonly' || sent.direction === 'sendrecv');
      slot.negotiated = sends ? slot.consumer : null;
      await this.resumeConsumer(slot.negotiated);
    }
    this.flushCandidates();
    if (plan.dataChannel) await this.attachDataChannel();
    for (const { slot } of plan.produce) {
      if (slot.producer) this.ctx.onProducer(this, slot.producer);
    }
    if (!this.ready) {
      this.ready = true;
      this.ctx.onReady(this);
    }
    if (this.floating.length > 0 || refitted) this.markDirty();
  }

  /** Takes the client's latest description of a section (what it sends, port 0). */
  private applyClientSection(slot: PeerSlot, section: ClientSection): void {
    slot.client = section;
    if (section.rejected && !slot.rejected) {
      slot.rejected = true;
      slot.producer?.close();
      slot.producer = undefined;
      slot.accepted = undefined;
      if (slot.consumer && !slot.consumer.closed) slot.consumer.close();
      slot.consumer = null;
      return;
    }
    if (slot.rejected || (slot.kind !== 'audio' && slot.kind !== 'video')) return;
    if (clientSends(slot, section)) return;
    if (slot.producer) this.logger.log(`client stopped sending [${this.context}, mid=${slot.mid}]`);
    slot.producer?.close();
    slot.producer = undefined;
    slot.accepted = undefined;
    if (slot.origin === 'client') {
      slot.recvCodecs = commonCodecs(section, this.ctx.router.rtpCapabilities, this.registry);
    }
  }

  private createProducer(
    mid: string,
    accepted: AcceptedSendSection,
    section: ClientSection,
  ): Promise<ms.Producer<SfuProducerAppData>> {
    return produce(this.transport, {
      ref: this.ref,
      mid,
      kind: section.kind === 'video' ? 'video' : 'audio',
      streamId: section.msid?.streamId ?? mid,
      accepted,
      screenStreamId: this.screenStreamId,
      muted: this.muted,
    });
  }

  private installProducer(
    slot: PeerSlot,
    producer: ms.Producer<SfuProducerAppData>,
    accepted: AcceptedSendSection,
  ): void {
    slot.producer?.close();
    slot.producer = producer;
    slot.accepted = accepted;
    slot.recvCodecs = undefined;
    const { type } = producer.appData;
    this.logger.log(
      `producer started [${this.context}, mid=${slot.mid}, kind=${producer.kind}, type=${type}, producerId=${producer.id}]`,
    );
  }

  private async resumeConsumer(consumer: ms.Consumer | null): Promise<void> {
    if (!consumer || !consumer.paused || consumer.closed) return;
    // The producer may close meanwhile (its owner left): the worker then no longer knows the
    // consumer, and the 'producerclose' event frees the slot; nothing to resume.
    await consumer.resume().catch((err: unknown) => {
      if (!consumer.closed && !/not found/i.test((err as Error).message)) throw err;
    });
  }

  // ------------------------------------------------------------------ consumers

  private consumeCapabilities(kind: 'audio' | 'video'): ms.RtpCapabilities {
    return consumeCapabilities(
      this.ctx.router.rtpCapabilities,
      kind,
      this.knowledge,
      this.registry,
    );
  }

  /** Creates a paused consumer in `slot` (resumed once a description with it is agreed). */
  private async startConsumer(
    slot: PeerSlot,
    producerId: string,
    rtpCapabilities: ms.RtpCapabilities,
    sourceKey: string | undefined,
  ): Promise<ms.Consumer> {
    const consumer = await this.transport.consume({
      producerId,
      rtpCapabilities,
      paused: true,
      mid: slot.mid,
      appData: { sessionId: this.ref.sessionId, sourceKey },
    });
    slot.consumer = consumer;
    const media = consumerMedia(consumer);
    slot.lastCodecs = media.codecs;
    slot.lastExtensions = media.extensions;
    consumer.on('producerclose', () => {
      if (slot.consumer !== consumer) return;
      slot.consumer = null;
      if (!this.closed) this.markDirty();
    });
    consumer.on('transportclose', () => {
      if (slot.consumer === consumer) slot.consumer = null;
    });
    return consumer;
  }

  /** Whether every consumer still agrees with the session's numbering. */
  private consumersFit(): boolean {
    return this.consumers.every((c) => consumerFits(c.rtpParameters, this.registry));
  }

  /**
   * Re-creates every consumer that no longer agrees with the session's numbering: made before
   * the client described its own sections (Mattermost's client adds its microphone as a new
   * section with Chrome's numbers, often while another participant's voice waits to be offered),
   * it may use ids or payload types the client now gives other meanings. mediasoup writes the
   * router's numbers, so the consumer is made again without the clashing ones, in the same slot
   * (mid and track kept), paused until a description with it is agreed.
   * @returns whether any consumer was re-created (or dropped)
   */
  private async refitConsumers(): Promise<boolean> {
    let changed = false;
    for (const slot of [...this.slots, ...this.floating]) {
      const old = slot.consumer;
      if (!old || old.closed || consumerFits(old.rtpParameters, this.registry)) continue;
      changed = true;
      old.close();
      slot.consumer = null;
      const rtpCapabilities = this.consumeCapabilities(old.kind);
      if (!this.ctx.router.canConsume({ producerId: old.producerId, rtpCapabilities })) {
        this.logger.warn(
          `client cannot receive a producer any more [${this.context}, mid=${slot.mid}, producerId=${old.producerId}]`,
        );
        continue;
      }
      try {
        const consumer = await this.startConsumer(
          slot,
          old.producerId,
          rtpCapabilities,
          slot.sourceKey,
        );
        this.logger.log(
          `consumer re-created to fit the client's numbering [${this.context}, mid=${slot.mid}, extensions=${consumer.rtpParameters.headerExtensions?.map((e) => e.id).join(',') ?? ''}]`,
        );
      } catch (err) {
        this.logger.warn(
          `consumer not re-created [${this.context}, mid=${slot.mid}]: ${(err as Error).message}`,
        );
      }
    }
    return changed;
  }

  private flushCandidates(): void {
    if (this.queuedCandidates.length > 0) {
      this.logger.debug(
        `flushed ${this.queuedCandidates.length} queued candidates [${this.context}]`,
      );
    }
    this.queuedCandidates = [];
  }

  // ------------------------------------------------------------------ server offers

  private markDirty(): void {
    this.dirty = true;
    if (this.offerQueued || this.closed) return;
    this.offerQueued = true;
    this.queue
      .run(async () => {
        this.offerQueued = false;
        await this.makeOffer();
      })
      .catch((err: Error) =>
        this.logger.error(`server offer failed [${this.context}]: ${err.stack}`),
      );
  }

  private async makeOffer(): Promise<void> {
    if (this.closed || !this.ready || !this.dirty || this.signalingState !== 'stable') return;
    this.dirty = false;
    await this.refitConsumers();
    if (this.closed) return;
    const registryBefore = this.registry.clone();
    const added = this.floating.filter(
      (s) => (s.consumer && !s.consumer.closed) || this.reclaimed.has(s),
    );
    this.floating = this.floating.filter((s) => !added.includes(s));
    this.slots.push(...added);
    const included = new Map<PeerSlot, ms.Consumer | null>();
    for (const slot of this.slots) {
      if (slot.origin !== 'server' || slot.rejected) continue;
      const consumer = slot.consumer && !slot.consumer.closed ? slot.consumer : null;
      slot.offered = consumer;
      included.set(slot, consumer);
    }
    const sections = this.slots.map((slot) => describeSlot(slot, this.registry));
    const timer = setTimeout(() => void this.onAnswerTimeout(pending), this.ctx.signalingTimeoutMs);
    timer.unref?.();
    const pending: PendingOffer = {
      added,
      included,
      transportGeneration: this.transportGeneration,
      registryBefore,
      timer,
    };
    this.pending = pending;
    this.signalingState = 'have-local-offer';
    this.sendDescription('offer', sections, 'actpass');
  }

  private async onClientAnswer(answer: ClientDescription): Promise<void> {
    if (this.closed) return;
    const pending = this.pending;
    if (this.signalingState !== 'have-local-offer' || !pending) {
      throw new UnexpectedSdpAnswerError(this.ref.sessionId);
    }
    if (
      answer.sections.length !== this.slots.length ||
      answer.sections.some((s, i) => s.mid !== this.slots[i].mid)
    ) {
      throw new InvalidSdpError(
        "answer does not match the offer's m= sections",
        this.ref.sessionId,
      );
    }
    // A new transport (after a worker death) is connected by the answer to the offer carrying it.
    if (!this.connected && pending.transportGeneration === this.transportGeneration) {
      await this.connect(answer, 'actpass');
      this.serverSetup = answerSetup(answer.dtls.setup);
    }
    clearTimeout(pending.timer);
    this.pending = null;
    this.signalingState = 'stable';
    pending.added.forEach((s) => this.reclaimed.delete(s));
    this.registry.learnClient(answer);
    this.remoteIce = answer.ice;
    this.hasRemoteDescription = true;
    answer.sections.forEach((section, i) => this.applyClientSection(this.slots[i], section));
    for (const [slot, consumer] of pending.included) {
      slot.offered = undefined;
      slot.negotiated = consumer;
      if (!slot.rejected) await this.resumeConsumer(consumer);
    }
    this.flushCandidates();
    await this.takeParkedOffer(answer);
    if (
      this.dirty ||
      this.floating.some((s) => s.consumer && !s.consumer.closed) ||
      !this.consumersFit()
    ) {
      this.markDirty();
    }
  }

  /**
   * After the answer to a server offer: a client offer that arrived meanwhile is handled now,
   * unless the answer proves the client rolled it back (a client can only answer from
   * `have-remote-offer`, and its `o=` version grows with every description it makes). Such a
   * client offers again by itself (`negotiationneeded`), so nothing it wanted is lost.
   */
  private async takeParkedOffer(answer: ClientDescription): Promise<void> {
    const parked = this.parked;
    this.parked = null;
    if (!parked) return;
    if (
      parked.originSessionId === answer.originSessionId &&
      parked.originVersion < answer.originVersion
    ) {
      this.logger.log(`deferred client offer was rolled back by the client [${this.context}]`);
      this.reclaimRolledBackMids(parked);
      return;
    }
    try {
      await this.answer(parked);
    } catch (err) {
      this.logger.warn(`deferred client offer failed [${this.context}]: ${(err as Error).message}`);
    }
  }

  /**
   * Chrome keeps the header extension ids of every mid its local offers named, also after it
   * rolls such an offer back, and reads incoming packets with them. Its microphone offer numbers
   * the MID extension 4, the id under which mediasoup writes abs-send-time into forwarded
   * video: every video packet would then carry an unknown MID and be dropped, and no later
   * description could give 4 another meaning. The mids of a rolled-back offer are never used
   * again by the client, so the server takes them as its own (idle) sections, without
   * extensions: Chrome replaces the stale numbering, and the next consumer of that kind reuses
   * the section.
   *
   * They are offered after the client's next offer (it offers again what it rolled back): an
   * offer sent at once would cross that one too, and so on.
   */
  private reclaimRolledBackMids(parked: ClientDescription): void {
    const taken = new Set([...this.slots, ...this.floating].map((s) => s.mid));
    const before = this.reclaimed.size;
    for (const section of parked.sections) {
      if (taken.has(section.mid) || section.rejected) continue;
      if (section.kind !== 'audio' && section.kind !== 'video') continue;
      const codecs = commonCodecs(section, this.ctx.router.rtpCapabilities, this.registry);
      if (codecs.length === 0) continue;
      const slot = newSlot(section.mid, section.kind, 'server');
      slot.lastCodecs = codecs;
      slot.lastExtensions = [];
      this.floating.push(slot);
      this.reclaimed.add(slot);
      this.logger.log(
        `rolled-back mid taken as a server section [${this.context}, mid=${slot.mid}]`,
      );
    }
    if (this.reclaimed.size === before) return;
    // A client that does not offer again gets them anyway.
    const timer = setTimeout(() => {
      if (!this.closed && [...this.reclaimed].some((s) => this.floating.includes(s))) {
        this.markDirty();
      }
    }, RECLAIM_OFFER_DELAY_MS);
    timer.unref?.();
  }

  /**
   * A client that names a reclaimed mid again in a new offer (one that reuses the mids of what
   * it rolled back) replaces that mid's numbering itself: the mid is the client's again.
   */
  private releaseReclaimedMids(offer: ClientDescription): void {
    for (const slot of [...this.reclaimed]) {
      if (!this.floating.includes(slot) || !offer.sections.some((s) => s.mid === slot.mid)) {
        continue;
      }
      this.reclaimed.delete(slot);
      this.floating = this.floating.filter((s) => s !== slot);
    }
  }

  /**
   * No answer within `signalingTimeoutMs`. A client that insists on its own crossing offer (an
   * impolite client) gets its way: the server offer is given up, the client's offer answered and
   * the server offers again afterwards. A client that just does not answer is closed.
   */
  private async onAnswerTimeout(pending: PendingOffer): Promise<void> {
    await this.queue
      .run(async () => {
        if (this.closed || this.pending !== pending) return;
        const parked = this.parked;
        if (!parked) {
          this.logger.warn(`no answer to the server offer [${this.context}]`);
          this.selfClose('signaling-timeout');
          return;
        }
        this.logger.log(`server offer given up for the client's offer [${this.context}]`);
        this.pending = null;
        this.parked = null;
        this.signalingState = 'stable';
        // The client never took the offer: numbers only it introduced are free again.
        this.registry = pending.registryBefore;
        this.slots = this.slots.filter((s) => !pending.added.includes(s));
        this.floating.unshift(...pending.added);
        for (const slot of pending.included.keys()) slot.offered = undefined;
        this.iceGeneration++; // the given-up offer may have carried new ICE credentials
        await this.answer(parked);
        this.markDirty();
      })
      .catch((err: Error) =>
        this.logger.warn(`answer timeout handling failed [${this.context}]: ${err.message}`),
      );
  }

  // ------------------------------------------------------------------ output

  private sendDescription(
    type: 'offer' | 'answer',
    sections: LocalSection[],
    setup: DtlsSetup,
  ): void {
    const sdp = writeLocalDescription({
      originSessionId: this.originSessionId,
      originVersion: ++this.originVersion,
      transport: {
        ice: this.transport.iceParameters,
        candidates: this.transport.iceCandidates,
        fingerprints: this.transport.dtlsParameters.fingerprints,
        setup,
      },
      extmapAllowMixed: false,
      sections,
    });
    this.ctx.signal(this.ref, { type, sdp });
    // Candidates again as signals whenever the ICE credentials are new (they are in the SDP too).
    if (this.announcedIceGeneration !== this.iceGeneration) {
      this.announcedIceGeneration = this.iceGeneration;
      for (const signal of serverCandidateSignals(this.transport, sections)) {
        this.ctx.signal(this.ref, signal);
      }
    }
  }
}
