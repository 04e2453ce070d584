import { randomInt } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { UnexpectedSdpAnswerError } from '../../errors/unexpected-sdp-answer.error';
import type {
  MediaOfferTrack,
  MediaSessionCloseReason,
  MediaSessionDirection,
  MediaSessionRef,
  MediaSignal,
} from '../../media/media-plane.interface';
import type { PeerDataChannelSpec, PeerDataChannels } from './peer-data-channels.interface';
import { BundleRegistry } from '../sdp/bundle-registry';
import type { LocalSection } from '../sdp/local-description';
import { writeLocalDescription } from '../sdp/sdp-writer';
import type { ClientDescription, ClientSection, DtlsSetup } from '../sdp/sdp.types';
import type { AcceptedSendSection } from '../sdp/send-section.acceptor';
import { ClientKnowledge } from './client-knowledge';
import type { NegotiationQueue } from './negotiation-queue';
import { describeSlot } from './peer-description.builder';
import { planClientOffer } from './peer-offer.plan';
import type { SfuProducerAppData } from './peer-producers';
import type { PeerSlot } from './peer-slot';
import type { PeerSlots } from './peer-slots';
import type { PeerTransport } from './peer-transport';

/** What a {@link PeerNegotiator} needs from its peer. */
export interface PeerNegotiatorHost {
  readonly ref: MediaSessionRef;
  /**
   * Which way the session's media goes: `publish` never offers, `subscribe` is ready at once
   * (the server offers first) and takes no client media.
   */
  readonly direction: MediaSessionDirection;
  /** `[key=value]` log context of the session. */
  readonly context: string;
  /** Whether the peer is closed. */
  isClosed(): boolean;
  /** The room's router now (it changes when the room moves after a worker death). */
  router(): ms.Router;
  /** The room's data channel relay now. */
  dataRelay(): PeerDataChannels;
  /** Which data channels the client opens and what becomes of their messages. */
  readonly dataChannels: PeerDataChannelSpec;
  /** How long the client has to answer a server offer (ms). */
  readonly signalingTimeoutMs: number;
  /** A signal for the session's client (`offer`, `answer`, `candidate`). */
  signal(signal: MediaSignal): void;
  /** The consumers of the server offer about to be signalled. */
  offerTracks(tracks: readonly MediaOfferTrack[]): void;
  /** Creates the producer of a client stream (the peer knows its mute and screen share). */
  createProducer(
    mid: string,
    accepted: AcceptedSendSection,
    section: ClientSection,
  ): Promise<ms.Producer<SfuProducerAppData>>;
  /** A producer of the session started (the room lets the others consume it). */
  producerStarted(producer: ms.Producer<SfuProducerAppData>): void;
  /** The client's first offer was answered: the session can now receive the others' media. */
  ready(): void;
  /** The negotiation cannot go on (the client does not answer). */
  fail(reason: MediaSessionCloseReason): void;
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
  readonly bundlesBefore: BundleRegistry;
  /** The offer and its candidates as signalled (sent again after a reconnect). */
  readonly signals: MediaSignal[];
  /** Gives up waiting for the answer (restarted when the offer is sent again). */
  timer?: NodeJS.Timeout;
}

/** How long a reclaimed mid waits for the client's next offer before the server offers it. */
const RECLAIM_OFFER_DELAY_MS = 1000;
/**
 * How long after a reconnect an unanswered server offer is sent again: a client that did get it
 * answers within this (through its new connection), and then must not get it twice.
 */
const RESEND_AFTER_RECONNECT_MS = 1000;

/**
 * The SDP offer/answer of one session with its client: the client offers first; the server
 * answers, and offers itself when consumers come and go ({@link markDirty}). The server is the
 * impolite peer: a client offer that crosses a pending server offer waits for the answer (glare),
 * and a client that insists on its own offer gets its way after `signalingTimeoutMs`. Owns the
 * session's BUNDLE numbering and what the client has shown it supports; the sections live in
 * {@link PeerSlots}, ICE and DTLS in {@link PeerTransport}. Every step runs in the session's
 * {@link NegotiationQueue}. A `publish` session only answers; a `subscribe` session offers
 * first (once it has a consumer) and refuses client offers that send media.
 */
export class PeerNegotiator {
  private readonly logger = new Logger(PeerNegotiator.name);
  private readonly originSessionId = String(randomInt(1, 2 ** 47));
  /** What the client has shown it can receive. */
  readonly knowledge = new ClientKnowledge();
  private currentBundles: BundleRegistry;
  private originVersion = 1;
  private signalingState: 'stable' | 'have-local-offer' = 'stable';
  private pending: PendingOffer | null = null;
  private parked: ClientDescription | null = null;
  private dirty = false;
  private offerQueued = false;
  private ready = false;
  private readonly reclaimTimers = new Set<NodeJS.Timeout>();
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: NegotiationQueue,
    private readonly slots: PeerSlots,
    private readonly transport: PeerTransport,
    private readonly host: PeerNegotiatorHost,
  ) {
    // A subscribe-only client never offers (no glare): the server may number extensions itself.
    const serverOffersFirst = host.direction === 'subscribe';
    this.currentBundles = new BundleRegistry({ serverNumbersExtensions: serverOffersFirst });
    this.ready = serverOffersFirst;
  }

  /** Whether the client's first offer has been answered (it can receive the others' media). */
  get isReady(): boolean {
    return this.ready;
  }

  /** The session's BUNDLE numbering (payload types and extension ids agreed with the client). */
  get bundles(): BundleRegistry {
    return this.currentBundles;
  }

  /**
   * Applies a client description (run it in the queue): an offer is answered (or deferred while
   * a server offer is pending), an answer completes the pending server offer.
   */
  async apply(description: ClientDescription): Promise<void> {
    if (description.type === 'offer') {
      if (this.host.direction === 'subscribe') assertSendsNoMedia(description, this.host.ref);
      await this.onClientOffer(description);
    } else await this.onClientAnswer(description);
  }

  /** Something the client must hear of changed: a server offer is queued. */
  markDirty(): void {
    if (this.host.direction === 'publish') return; // the client is never offered anything
    this.dirty = true;
    if (this.offerQueued || this.host.isClosed()) return;
    this.offerQueued = true;
    this.queue
      .run(async () => {
        this.offerQueued = false;
        await this.makeOffer();
      })
      .catch((err: Error) =>
        this.logger.error(`server offer failed [${this.host.context}]: ${err.stack}`),
      );
  }

  /** The next server offer is due even with nothing else changed; none is queued now. */
  markDirtyWithoutOffer(): void {
    this.dirty = true;
  }

  /**
   * The client reconnected. Signals sent while its connection was going away are lost (a
   * socket.io connection replays nothing), and a server offer it never got would end the session
   * at the answer timeout: one still unanswered a moment later is sent again, the same offer with
   * its candidates, and the client gets a full answer timeout for it.
   */
  clientReconnected(): void {
    if (!this.pending) return;
    const pending = this.pending;
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      void this.queue
        .run(() => {
          if (this.host.isClosed() || this.pending !== pending) return Promise.resolve();
          this.logger.log(`server offer sent again after a reconnect [${this.host.context}]`);
          clearTimeout(pending.timer);
          pending.timer = this.answerTimer(pending);
          for (const signal of pending.signals) this.host.signal(signal);
          return Promise.resolve();
        })
        .catch((err: Error) =>
          this.logger.warn(`sending the offer again failed [${this.host.context}]: ${err.message}`),
        );
    }, RESEND_AFTER_RECONNECT_MS);
    this.resendTimer.unref?.();
  }

  /** Stops every timer (the pending offer's, the reclaimed mids', a resend's). */
  close(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
    clearTimeout(this.resendTimer);
    for (const timer of this.reclaimTimers) clearTimeout(timer);
    this.reclaimTimers.clear();
  }

  // ------------------------------------------------------------------ client offers

  private async onClientOffer(offer: ClientDescription): Promise<void> {
    if (this.host.isClosed()) return;
    if (this.signalingState === 'have-local-offer') {
      this.logger.debug(`client offer deferred, server offer pending [${this.host.context}]`);
      this.parked = offer;
      return;
    }
    await this.answer(offer);
  }

  private async answer(offer: ClientDescription): Promise<void> {
    this.slots.releaseReclaimed(offer);
    const plan = planClientOffer(
      {
        sessionId: this.host.ref.sessionId,
        slots: this.slots.list,
        floating: this.slots.floating,
        remoteFingerprint: this.transport.remoteFingerprint,
        routerCapabilities: this.host.router().rtpCapabilities,
        bundles: this.bundles,
      },
      offer,
    );
    // Producers first: the only step that can still fail, and one that can be undone.
    const created: ms.Producer<SfuProducerAppData>[] = [];
    try {
      for (const { slot, accepted } of plan.produce) {
        const section = offer.sections.find((s) => s.mid === slot.mid);
        if (section) created.push(await this.host.createProducer(slot.mid, accepted, section));
      }
    } catch (err) {
      created.forEach((p) => p.close());
      throw err;
    }
    await this.transport.acceptOffer(offer);

    this.slots.adopt(plan.slots);
    for (const { slot, section } of plan.sections) this.slots.applyClientSection(slot, section);
    plan.produce.forEach(({ slot, accepted }, i) =>
      this.slots.installProducer(slot, created[i], accepted),
    );
    this.knowledge.learn(offer);
    this.bundles.learnClient(offer);
    this.transport.described(offer.ice);
    const refitted = await this.slots.refit();

    const sections = this.slots.list.map((slot, i) =>
      describeSlot(slot, this.bundles, offer.sections[i]),
    );
    // Labelled channels are named by the client's DCEP OPEN, sent as soon as it connects: its
    // streams are relayed before the client has the answer, so that no OPEN is missed.
    const channelsFirst = plan.dataChannel && this.host.dataChannels.kind === 'labelled';
    if (channelsFirst) await this.attachDataChannel();
    this.sendDescription('answer', sections, this.transport.answerSetup);
    await this.slots.answerSent(sections);
    this.transport.flushCandidates();
    if (plan.dataChannel && !channelsFirst) await this.attachDataChannel();
    for (const { slot } of plan.produce) {
      if (slot.producer) this.host.producerStarted(slot.producer);
    }
    if (!this.ready) {
      this.ready = true;
      this.host.ready();
    }
    if (this.slots.floating.length > 0 || refitted) this.markDirty();
  }

  // ------------------------------------------------------------------ server offers

  private async makeOffer(): Promise<void> {
    if (this.host.isClosed() || !this.ready || !this.dirty || this.signalingState !== 'stable') {
      return;
    }
    // A session the server offers first gets its first offer once there is something in it.
    if (
      this.host.direction === 'subscribe' &&
      this.slots.list.length === 0 &&
      !this.slots.hasFloatingConsumer
    ) {
      return;
    }
    this.dirty = false;
    await this.slots.refit();
    if (this.host.isClosed()) return;
    const bundlesBefore = this.bundles.clone();
    const { added, included } = this.slots.prepareOffer();
    const sections = this.slots.list.map((slot) => describeSlot(slot, this.bundles));
    const pending: PendingOffer = {
      added,
      included,
      transportGeneration: this.transport.generation,
      bundlesBefore,
      signals: [],
    };
    pending.timer = this.answerTimer(pending);
    this.pending = pending;
    this.signalingState = 'have-local-offer';
    this.host.offerTracks(
      [...included].flatMap(([slot, consumer]) =>
        consumer ? [{ mid: slot.mid, producerId: consumer.producerId }] : [],
      ),
    );
    pending.signals.push(...this.sendDescription('offer', sections, 'actpass'));
  }

  /** Gives the client `signalingTimeoutMs` from now to answer `pending`. */
  private answerTimer(pending: PendingOffer): NodeJS.Timeout {
    const timer = setTimeout(
      () => void this.onAnswerTimeout(pending),
      this.host.signalingTimeoutMs,
    );
    timer.unref?.();
    return timer;
  }

  private async onClientAnswer(answer: ClientDescription): Promise<void> {
    if (this.host.isClosed()) return;
    const pending = this.pending;
    if (this.signalingState !== 'have-local-offer' || !pending) {
      throw new UnexpectedSdpAnswerError(this.host.ref.sessionId);
    }
    const slots = this.slots.list;
    if (
      answer.sections.length !== slots.length ||
      answer.sections.some((s, i) => s.mid !== slots[i].mid)
    ) {
      throw new InvalidSdpError(
        "answer does not match the offer's m= sections",
        this.host.ref.sessionId,
      );
    }
    await this.transport.acceptAnswer(answer, pending.transportGeneration);
    clearTimeout(pending.timer);
    this.pending = null;
    this.signalingState = 'stable';
    this.slots.reclaimedOffered(pending.added);
    this.bundles.learnClient(answer);
    this.transport.described(answer.ice);
    answer.sections.forEach((section, i) =>
      this.slots.applyClientSection(this.slots.list[i], section),
    );
    await this.slots.offerAnswered(pending.included);
    this.transport.flushCandidates();
    await this.takeParkedOffer(answer);
    if (this.dirty || this.slots.hasFloatingConsumer || !this.slots.allFit()) {
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
      this.logger.log(`deferred client offer was rolled back by the client [${this.host.context}]`);
      this.reclaimRolledBackMids(parked);
      return;
    }
    try {
      await this.answer(parked);
    } catch (err) {
      this.logger.warn(
        `deferred client offer failed [${this.host.context}]: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Takes the mids of a rolled-back client offer as server sections ({@link PeerSlots.reclaim}
   * says why). They are offered after the client's next offer (it offers again what it rolled
   * back): an offer sent at once would cross that one too, and so on.
   */
  private reclaimRolledBackMids(parked: ClientDescription): void {
    if (this.slots.reclaim(parked) === 0) return;
    // A client that does not offer again gets them anyway.
    const timer = setTimeout(() => {
      this.reclaimTimers.delete(timer);
      if (!this.host.isClosed() && this.slots.hasReclaimedWaiting) this.markDirty();
    }, RECLAIM_OFFER_DELAY_MS);
    timer.unref?.();
    this.reclaimTimers.add(timer);
  }

  /**
   * No answer within `signalingTimeoutMs`. A client that insists on its own crossing offer (an
   * impolite client) gets its way: the server offer is given up, the client's offer answered and
   * the server offers again afterwards. A client that just does not answer is closed.
   */
  private async onAnswerTimeout(pending: PendingOffer): Promise<void> {
    await this.queue
      .run(async () => {
        if (this.host.isClosed() || this.pending !== pending) return;
        const parked = this.parked;
        if (!parked) {
          this.logger.warn(`no answer to the server offer [${this.host.context}]`);
          this.host.fail('signaling-timeout');
          return;
        }
        this.logger.log(`server offer given up for the client's offer [${this.host.context}]`);
        this.pending = null;
        this.parked = null;
        this.signalingState = 'stable';
        // The client never took the offer: numbers only it introduced are free again.
        this.currentBundles = pending.bundlesBefore;
        this.slots.offerGivenUp(pending.added, pending.included.keys());
        // The given-up offer may have carried new ICE credentials.
        this.transport.announceCandidatesAgain();
        await this.answer(parked);
        this.markDirty();
      })
      .catch((err: Error) =>
        this.logger.warn(`answer timeout handling failed [${this.host.context}]: ${err.message}`),
      );
  }

  // ------------------------------------------------------------------ output

  private attachDataChannel(): Promise<void> {
    return this.transport.attachDataChannel(this.host.dataRelay(), this.host.dataChannels);
  }

  /** Signals a description and its candidates; returns what it signalled. */
  private sendDescription(
    type: 'offer' | 'answer',
    sections: LocalSection[],
    setup: DtlsSetup,
  ): MediaSignal[] {
    const sdp = writeLocalDescription({
      originSessionId: this.originSessionId,
      originVersion: ++this.originVersion,
      transport: this.transport.localParameters(setup),
      extmapAllowMixed: false,
      sections,
    });
    const signals: MediaSignal[] = [{ type, sdp }, ...this.transport.candidateSignals(sections)];
    for (const signal of signals) this.host.signal(signal);
    return signals;
  }
}

/**
 * Refuses a client offer to a `subscribe` session that sends media (an audio or video section
 * `sendonly`/`sendrecv`): such a session only receives.
 * @throws InvalidSdpError
 */
function assertSendsNoMedia(offer: ClientDescription, ref: MediaSessionRef): void {
  const sending = offer.sections.find(
    (s) =>
      !s.rejected &&
      (s.kind === 'audio' || s.kind === 'video') &&
      (s.direction === 'sendonly' || s.direction === 'sendrecv'),
  );
  if (sending) {
    throw new InvalidSdpError(
      `a subscribe-only session takes no client media (m= section ${sending.mid} sends)`,
      ref.sessionId,
    );
  }
}
