import { randomBytes, randomInt } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../errors/invalid-sdp.error';
import { UnexpectedSdpAnswerError } from '../errors/unexpected-sdp-answer.error';
import type { DataChannelAttachment, DataChannelRelay } from './data-channel.relay';
import { IceRestartPolicy, type IceRestartSettings } from './ice-restart.policy';
import { NegotiationQueue } from './negotiation-queue';
import { consumerMedia, describeSlot } from './peer-description.builder';
import { newSlot, type PeerSlot, reusableSlot } from './peer-slot';
import { BundleRegistry } from './sdp/bundle-registry';
import { parseClientDescription } from './sdp/client-description.parser';
import { consumeCapabilities } from './sdp/consume-capabilities';
import {
  formatServerCandidate,
  type ParsedIceCandidate,
  parseClientIceCandidate,
} from './sdp/ice-candidate';
import type { LocalSection } from './sdp/local-description';
import { writeLocalDescription } from './sdp/sdp-writer';
import type {
  ClientDescription,
  ClientSection,
  DtlsSetup,
  MediaKind,
  SdpCodec,
} from './sdp/sdp.types';
import {
  type AcceptedSendSection,
  acceptSendSection,
  commonCodecs,
} from './sdp/send-section.acceptor';
import type {
  ClientIceCandidate,
  SfuMediaType,
  SfuSessionCloseReason,
  SfuSessionRef,
  SfuSignal,
} from './sfu.types';

/** What a peer needs from its room and the service. */
export interface PeerContext {
  readonly router: ms.Router;
  readonly createTransport: (ref: SfuSessionRef) => Promise<ms.WebRtcTransport>;
  readonly dataRelay: DataChannelRelay;
  readonly maxSdpBytes: number;
  readonly signalingTimeoutMs: number;
  readonly iceRestart: IceRestartSettings;
  readonly signal: (ref: SfuSessionRef, signal: SfuSignal) => void;
  /** A producer of this peer started (the room lets the others consume it). */
  readonly onProducer: (peer: SfuPeer, producer: ms.Producer) => void;
  /** The peer's first offer was answered: it can now receive the others' media. */
  readonly onReady: (peer: SfuPeer) => void;
  /** The peer closed itself (ICE/DTLS failure, restarts exhausted, …). */
  readonly onSelfClose: (peer: SfuPeer, reason: SfuSessionCloseReason) => void;
}

/** App data of the SFU's producers. */
export interface SfuProducerAppData extends ms.AppData {
  sessionId: string;
  userId: string;
  mid: string;
  /** The client's MediaStream id of the track (`a=msid`). */
  streamId: string;
  type: SfuMediaType;
}

interface PendingOffer {
  readonly added: PeerSlot[];
  readonly included: Map<PeerSlot, ms.Consumer | null>;
  readonly transportGeneration: number;
  readonly timer: NodeJS.Timeout;
}

const MAX_QUEUED_CANDIDATES = 64;

function dtlsStateSignal(state: ms.DtlsState): string | null {
  return state === 'new' ? null : state;
}

/** DTLS role the client takes, given its `a=setup` and the server's. */
function clientDtlsRole(clientSetup: DtlsSetup, serverSetup: DtlsSetup): ms.DtlsRole {
  if (clientSetup === 'active') return 'client';
  if (clientSetup === 'passive') return 'server';
  return serverSetup === 'passive' ? 'client' : 'server';
}

/**
 * One session's media: a WebRTC transport (BUNDLE, ICE-lite, DTLS/SRTP, SCTP), the producers of
 * what the client sends, a consumer for everything the others send, the `calls-dc` data channel,
 * and the SDP offer/answer with the client. All negotiation runs through one serial queue; the
 * server is the impolite peer (a client offer that collides with a pending server offer waits).
 */
export class SfuPeer {
  private readonly logger = new Logger(SfuPeer.name);
  private readonly queue = new NegotiationQueue();
  private readonly registry = new BundleRegistry();
  private readonly knowledge: {
    codecs: Map<MediaKind, SdpCodec[]>;
    extensionUris: Map<MediaKind, Set<string>>;
  } = { codecs: new Map(), extensionUris: new Map() };
  private readonly originSessionId = String(randomInt(1, 2 ** 47));
  private readonly iceRestart: IceRestartPolicy;

  private slots: PeerSlot[] = [];
  private floating: PeerSlot[] = [];
  private serverMidCounter = 0;
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
  private announcedIceGeneration = -1;
  private iceGeneration = 0;
  private dataChannel: DataChannelAttachment | null = null;
  private queuedCandidates: ParsedIceCandidate[] = [];
  private hasRemoteDescription = false;

  private migrationDeadline: NodeJS.Timeout | null = null;
  private muted = false;
  private screenStreamId: string | null = null;
  private closed = false;

  private constructor(
    readonly ref: SfuSessionRef,
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
  static async create(ref: SfuSessionRef, ctx: PeerContext): Promise<SfuPeer> {
    const peer = new SfuPeer(ref, ctx);
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
  get producers(): ms.Producer[] {
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

  // ------------------------------------------------------------------ public operations

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

  /** Validates a client candidate; mediasoup is ICE-lite, so it needs nothing else. */
  addIceCandidate(input: ClientIceCandidate): void {
    const candidate = parseClientIceCandidate(input);
    if (!candidate) return;
    if (!this.hasRemoteDescription) {
      if (this.queuedCandidates.length < MAX_QUEUED_CANDIDATES)
        this.queuedCandidates.push(candidate);
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
        .filter((p) => (p.appData as SfuProducerAppData).type === 'voice')
        .map((p) => (muted ? p.pause() : p.resume())),
    );
  }

  /** Labels the video (and audio) of the given MediaStream as the screen share. */
  setScreenStream(streamId: string | null): void {
    this.screenStreamId = streamId;
    for (const producer of this.producers) {
      const appData = producer.appData as SfuProducerAppData;
      appData.type = this.mediaType(producer.kind, appData.streamId);
    }
  }

  /**
   * Starts consuming another peer's producer: a paused consumer in a reused or new server slot,
   * then a server offer. Skipped when the client cannot receive the producer's codec.
   */
  consume(producer: ms.Producer): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed || producer.closed || this.transport.closed) return;
      const appData = producer.appData as SfuProducerAppData;
      const sourceKey = `${appData.sessionId}/${appData.mid}`;
      if (this.consumers.some((c) => c.producerId === producer.id)) return;
      const rtpCapabilities = consumeCapabilities(
        this.ctx.router.rtpCapabilities,
        this.knowledge,
        this.registry,
      );
      if (!this.ctx.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
        this.logger.warn(
          `client cannot receive a producer [${this.context}, producerId=${producer.id}, codec=${producer.rtpParameters.codecs[0]?.mimeType}]`,
        );
        return;
      }
      let slot = reusableSlot([...this.slots, ...this.floating], producer.kind, sourceKey);
      if (!slot) {
        slot = newSlot(`s${++this.serverMidCounter}`, producer.kind, 'server');
        this.floating.push(slot);
      }
      const consumer = await this.transport.consume({
        producerId: producer.id,
        rtpCapabilities,
        paused: true,
        mid: slot.mid,
        appData: { sessionId: this.ref.sessionId, sourceKey },
      });
      if (slot.sourceKey !== sourceKey || !slot.trackId) {
        slot.streamId = `${appData.type}_${appData.sessionId}`;
        slot.trackId = `${appData.type}_${appData.sessionId}_${randomBytes(4).toString('hex')}`;
      }
      slot.sourceKey = sourceKey;
      slot.consumer = consumer;
      const media = consumerMedia(consumer);
      slot.lastCodecs = media.codecs;
      slot.lastExtensions = media.extensions;
      const current = slot;
      const gone = () => {
        if (current.consumer !== consumer) return;
        current.consumer = null;
        if (!this.closed) this.markDirty();
      };
      consumer.on('producerclose', gone);
      consumer.on('transportclose', () => {
        if (current.consumer === consumer) current.consumer = null;
      });
      this.markDirty();
    });
  }

  /**
   * Moves the peer to a new router after its worker died: a new transport, the client's
   * producers re-created from what it negotiated, and a server offer with the new ICE and DTLS
   * parameters (the consumers follow when the room re-links everyone).
   */
  migrate(ctx: PeerContext): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.ctx = ctx;
      this.dataChannel = null;
      this.useTransport(await ctx.createTransport(this.ref));
      for (const slot of this.slots) {
        slot.producer = undefined;
        if (slot.accepted && !slot.rejected) await this.reproduce(slot);
      }
      if (this.slots.some((s) => s.kind === 'application' && !s.rejected)) {
        await this.attachDataChannel();
      }
      // The room re-links the consumers next and then asks for the offer (requestOffer).
      this.dirty = true;
      if (this.ready) {
        // A client that cannot follow (no DTLS restart, no answer) is given up as worker-died.
        this.clearMigrationDeadline();
        this.migrationDeadline = setTimeout(() => {
          this.logger.warn(`session did not reconnect after the worker died [${this.context}]`);
          this.selfClose('worker-died');
        }, 2 * this.ctx.signalingTimeoutMs);
        this.migrationDeadline.unref?.();
      }
    });
  }

  /** Sends a server offer (after everything queued before it), e.g. after a migration. */
  requestOffer(): void {
    this.markDirty();
  }

  /** Closes the transport (and with it producers, consumers, data channel). */
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
      const mapped = dtlsStateSignal(state);
      if (mapped) this.ctx.signal(this.ref, { type: 'connection-state', state: mapped });
      if (state === 'connected') this.clearMigrationDeadline();
      if (state === 'failed') this.selfClose('dtls-failed');
      else if (state === 'closed') this.selfClose('dtls-closed');
    });
  }

  private clearMigrationDeadline(): void {
    if (this.migrationDeadline) clearTimeout(this.migrationDeadline);
    this.migrationDeadline = null;
  }

  private async restartIce(attempt: number): Promise<void> {
    await this.queue
      .run(async () => {
        if (this.closed || this.transport.closed) return;
        this.logger.log(`restarting ICE [${this.context}, attempt=${attempt}]`);
        await this.transport.restartIce();
        this.iceGeneration++;
        this.markDirty();
      })
      .catch((err: Error) =>
        this.logger.warn(`ICE restart failed [${this.context}]: ${err.message}`),
      );
  }

  private selfClose(reason: SfuSessionCloseReason): void {
    if (this.closed) return;
    this.logger.warn(`closing session [${this.context}, reason=${reason}]`);
    this.close();
    this.ctx.onSelfClose(this, reason);
  }

  // ------------------------------------------------------------------ client offers

  private async onClientOffer(offer: ClientDescription): Promise<void> {
    if (this.closed) return;
    if (this.signalingState === 'have-local-offer') {
      // Glare: the server is impolite; the client's offer waits for the answer to ours.
      this.logger.debug(`client offer deferred, server offer pending [${this.context}]`);
      this.parked = offer;
      return;
    }
    await this.answer(offer);
  }

  private async answer(offer: ClientDescription): Promise<void> {
    const plan = this.planOffer(offer);
    // Producers first: they are the only step that can still fail, and they can be undone.
    const created: ms.Producer[] = [];
    try {
      for (const { slot, accepted } of plan.produce) {
        created.push(await this.createProducer(slot.mid, accepted, offer));
      }
    } catch (err) {
      created.forEach((p) => p.close());
      throw err;
    }
    if (this.remoteIce && offer.ice.usernameFragment !== this.remoteIce.usernameFragment) {
      this.logger.log(`client restarted ICE [${this.context}]`);
      await this.transport.restartIce();
      this.iceGeneration++;
    }
    this.remoteIce = offer.ice;
    if (!this.connected) {
      this.serverSetup = offer.dtls.setup === 'passive' ? 'active' : 'passive';
      await this.connect(offer, this.serverSetup);
    }
    // Commit the plan.
    this.slots = plan.slots;
    for (const { slot, section } of plan.sections) this.applyClientSection(slot, section);
    plan.produce.forEach(({ slot, accepted }, i) =>
      this.installProducer(slot, created[i], accepted),
    );
    this.learn(offer);
    this.hasRemoteDescription = true;

    const sections = this.slots.map((slot, i) =>
      describeSlot(slot, this.registry, offer.sections[i]),
    );
    this.sendDescription('answer', sections, this.serverSetup);
    for (const slot of this.slots) {
      if (slot.origin !== 'server') continue;
      const sent = sections[this.slots.indexOf(slot)];
      const sending =
        sent.kind !== null &&
        sent.kind !== 'application' &&
        (sent.direction === 'sendonly' || sent.direction === 'sendrecv');
      const consumer = sending ? slot.consumer : null;
      slot.negotiated = consumer;
      if (consumer && consumer.paused && !consumer.closed) await consumer.resume();
    }
    this.flushCandidates();
    if (plan.dataChannel) await this.attachDataChannel();
    plan.produce.forEach(({ slot }) => slot.producer && this.ctx.onProducer(this, slot.producer));
    if (!this.ready) {
      this.ready = true;
      this.ctx.onReady(this);
    }
    if (this.floating.length > 0) this.markDirty();
  }

  /** Checks a client offer against the negotiated sections; nothing changes yet. */
  private planOffer(offer: ClientDescription): {
    slots: PeerSlot[];
    sections: { slot: PeerSlot; section: ClientSection }[];
    produce: { slot: PeerSlot; accepted: AcceptedSendSection }[];
    dataChannel: boolean;
  } {
    if (offer.sections.length < this.slots.length) {
      throw new InvalidSdpError(
        `offer has ${offer.sections.length} m= sections, ${this.slots.length} were negotiated`,
        this.ref.sessionId,
      );
    }
    const fingerprint = offer.dtls.fingerprints[0]?.value ?? '';
    if (this.remoteFingerprint !== null && fingerprint !== this.remoteFingerprint) {
      throw new InvalidSdpError(
        'the DTLS fingerprint changed (DTLS restart is not supported)',
        this.ref.sessionId,
      );
    }
    const slots: PeerSlot[] = [];
    const sections: { slot: PeerSlot; section: ClientSection }[] = [];
    const produce: { slot: PeerSlot; accepted: AcceptedSendSection }[] = [];
    const knownMids = new Set([...this.slots, ...this.floating].map((s) => s.mid));
    let dataChannel = false;
    let hasApplication = this.slots.some((s) => s.kind === 'application' && !s.rejected);
    for (const section of offer.sections) {
      let slot: PeerSlot | undefined = this.slots[section.index];
      if (slot && slot.mid !== section.mid) {
        if (!slot.rejected) {
          throw new InvalidSdpError(
            `m= section ${section.index} is mid ${section.mid}, negotiated as ${slot.mid}`,
            this.ref.sessionId,
          );
        }
        slot = undefined; // the client recycles a rejected section
      }
      if (!slot) {
        if (knownMids.has(section.mid) && !this.slots[section.index]) {
          throw new InvalidSdpError(`mid ${section.mid} is already in use`, this.ref.sessionId);
        }
        slot = newSlot(section.mid, section.kind, 'client');
        if (section.kind === 'application') {
          if (hasApplication) slot.rejected = true;
          else if (!section.rejected) dataChannel = hasApplication = true;
        }
      }
      slots.push(slot);
      sections.push({ slot, section });
      if (slot.rejected || section.rejected || !clientSends(slot, section)) continue;
      // Validates codecs (NoCommonCodecError) before anything is applied.
      const accepted = acceptSendSection(section, this.ctx.router.rtpCapabilities, this.registry);
      const live = slot.producer && !slot.producer.closed ? slot.producer : undefined;
      if (!live || !sameStreams(slot, accepted)) produce.push({ slot, accepted });
    }
    return { slots, sections, produce, dataChannel };
  }

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
    if (!clientSends(slot, section)) {
      if (slot.producer) {
        this.logger.log(`client stopped sending [${this.context}, mid=${slot.mid}]`);
      }
      slot.producer?.close();
      slot.producer = undefined;
      slot.accepted = undefined;
      if (slot.origin === 'client') {
        slot.recvCodecs = commonCodecs(section, this.ctx.router.rtpCapabilities, this.registry);
      }
    }
  }

  /** Creates the producer of a section the client sends in (the section of `offer` with `mid`). */
  private async createProducer(
    mid: string,
    accepted: AcceptedSendSection,
    offer: ClientDescription,
  ): Promise<ms.Producer> {
    const section = offer.sections.find((s) => s.mid === mid);
    const streamId = section?.msid?.streamId ?? mid;
    const kind = section?.kind === 'video' ? 'video' : 'audio';
    const type = this.mediaType(kind, streamId);
    return this.transport.produce<SfuProducerAppData>({
      kind,
      rtpParameters: accepted.rtpParameters,
      paused: type === 'voice' && this.muted,
      appData: { sessionId: this.ref.sessionId, userId: this.ref.userId, mid, streamId, type },
    });
  }

  private installProducer(
    slot: PeerSlot,
    producer: ms.Producer,
    accepted: AcceptedSendSection,
  ): void {
    slot.producer?.close();
    slot.producer = producer;
    slot.accepted = accepted;
    slot.recvCodecs = undefined;
    this.logger.log(
      `producer started [${this.context}, mid=${slot.mid}, kind=${producer.kind}, type=${(producer.appData as SfuProducerAppData).type}, producerId=${producer.id}]`,
    );
  }

  /** Re-creates a producer after a worker restart, from what was negotiated. */
  private async reproduce(slot: PeerSlot): Promise<void> {
    const accepted = slot.accepted;
    const section = slot.client;
    if (!accepted || !section) return;
    const streamId = section.msid?.streamId ?? section.mid;
    const kind = section.kind === 'video' ? 'video' : 'audio';
    const type = this.mediaType(kind, streamId);
    slot.producer = await this.transport.produce<SfuProducerAppData>({
      kind,
      rtpParameters: accepted.rtpParameters,
      paused: type === 'voice' && this.muted,
      appData: {
        sessionId: this.ref.sessionId,
        userId: this.ref.userId,
        mid: slot.mid,
        streamId,
        type,
      },
    });
  }

  private mediaType(kind: 'audio' | 'video', streamId: string): SfuMediaType {
    const screen = this.screenStreamId !== null && streamId === this.screenStreamId;
    if (kind === 'video') return screen ? 'screen' : 'video';
    return screen ? 'screen-audio' : 'voice';
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

  private async attachDataChannel(): Promise<void> {
    if (this.dataChannel || this.transport.closed) return;
    try {
      this.dataChannel = await this.ctx.dataRelay.attach(this.transport, this.context);
    } catch (err) {
      this.logger.warn(`data channel not attached [${this.context}]: ${(err as Error).message}`);
    }
  }

  /** Remembers what the client has shown it supports (for consuming). */
  private learn(offer: ClientDescription): void {
    for (const section of offer.sections) {
      if (section.rejected || (section.kind !== 'audio' && section.kind !== 'video')) continue;
      const codecs = this.knowledge.codecs.get(section.kind) ?? [];
      for (const codec of section.codecs) {
        if (!codecs.some((c) => c.payloadType === codec.payloadType)) codecs.push(codec);
      }
      this.knowledge.codecs.set(section.kind, codecs);
      const uris = this.knowledge.extensionUris.get(section.kind) ?? new Set<string>();
      section.headerExtensions.forEach((e) => uris.add(e.uri));
      this.knowledge.extensionUris.set(section.kind, uris);
    }
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
      .run(() => {
        this.offerQueued = false;
        return this.makeOffer();
      })
      .catch((err: Error) =>
        this.logger.error(`server offer failed [${this.context}]: ${err.stack}`),
      );
  }

  private async makeOffer(): Promise<void> {
    if (this.closed || !this.ready || !this.dirty || this.signalingState !== 'stable') return;
    this.dirty = false;
    const added = this.floating.filter((s) => s.consumer && !s.consumer.closed);
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
      timer,
    };
    this.pending = pending;
    this.signalingState = 'have-local-offer';
    this.sendDescription('offer', sections, 'actpass');
    await Promise.resolve();
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
    if (!this.connected && pending.transportGeneration === this.transportGeneration) {
      await this.connect(answer, 'actpass');
      this.serverSetup = answer.dtls.setup === 'active' ? 'passive' : 'active';
    }
    clearTimeout(pending.timer);
    this.pending = null;
    this.signalingState = 'stable';
    this.remoteIce = answer.ice;
    this.hasRemoteDescription = true;
    answer.sections.forEach((section, i) => this.applyClientSection(this.slots[i], section));
    for (const [slot, consumer] of pending.included) {
      slot.offered = undefined;
      slot.negotiated = consumer;
      if (consumer && !consumer.closed && consumer.paused && !slot.rejected)
        await consumer.resume();
    }
    this.flushCandidates();
    await this.takeParkedOffer(answer);
    if (this.dirty || this.floating.some((s) => s.consumer && !s.consumer.closed)) this.markDirty();
  }

  /**
   * After the answer to a server offer: a client offer that arrived meanwhile is handled now,
   * unless the answer proves the client rolled it back (a client can only answer from
   * `have-remote-offer`, and its `o=` version grows with every description it makes); such a
   * client re-offers by itself (`negotiationneeded`).
   */
  private async takeParkedOffer(answer: ClientDescription): Promise<void> {
    const parked = this.parked;
    this.parked = null;
    if (!parked) return;
    const superseded =
      parked.originSessionId === answer.originSessionId &&
      parked.originVersion < answer.originVersion;
    if (superseded) {
      this.logger.log(
        `deferred client offer was rolled back by the client, dropped [${this.context}]`,
      );
      return;
    }
    try {
      await this.answer(parked);
    } catch (err) {
      this.logger.warn(`deferred client offer failed [${this.context}]: ${(err as Error).message}`);
    }
  }

  private async onAnswerTimeout(pending: PendingOffer): Promise<void> {
    await this.queue
      .run(async () => {
        if (this.closed || this.pending !== pending) return;
        if (!this.parked) {
          this.logger.warn(`no answer to the server offer [${this.context}]`);
          this.selfClose('signaling-timeout');
          return;
        }
        // The client insists on its own offer: give ours up, answer theirs, offer again later.
        this.logger.log(`server offer given up for the client's deferred offer [${this.context}]`);
        this.pending = null;
        this.signalingState = 'stable';
        this.slots = this.slots.filter((s) => !pending.added.includes(s));
        this.floating.unshift(...pending.added);
        for (const slot of pending.included.keys()) slot.offered = undefined;
        this.iceGeneration++;
        const parked = this.parked;
        this.parked = null;
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
    if (this.announcedIceGeneration !== this.iceGeneration) {
      this.announcedIceGeneration = this.iceGeneration;
      const first = sections.findIndex((s) => !s.rejected);
      if (first < 0) return;
      for (const candidate of this.transport.iceCandidates) {
        this.ctx.signal(this.ref, {
          type: 'candidate',
          candidate: {
            candidate: formatServerCandidate(candidate),
            sdpMid: sections[first].mid,
            sdpMLineIndex: first,
            usernameFragment: this.transport.iceParameters.usernameFragment,
          },
        });
      }
    }
  }
}

/**
 * Whether the client sends media in the section. In a section the server created (to send a
 * consumer), a client may send too: Chrome's `addTrack` reuses such a transceiver, which is how
 * Mattermost's microphone usually arrives. A send direction without a MediaStream there is no
 * real track (Mattermost flips received video transceivers to `sendrecv` without one).
 */
function clientSends(slot: PeerSlot, section: ClientSection): boolean {
  if (slot.kind !== 'audio' && slot.kind !== 'video') return false;
  if (section.direction !== 'sendonly' && section.direction !== 'sendrecv') return false;
  if (slot.origin === 'server') return !!section.msid && section.msid.streamId !== '-';
  return true;
}

function sameStreams(slot: PeerSlot, accepted: AcceptedSendSection): boolean {
  const before = slot.accepted?.rtpParameters;
  if (!before) return false;
  const key = (p: ms.RtpParameters) =>
    JSON.stringify({
      pt: p.codecs[0]?.payloadType,
      enc: (p.encodings ?? []).map((e) => [e.ssrc, e.rid, e.rtx?.ssrc]),
    });
  return key(before) === key(accepted.rtpParameters);
}
