import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type { MediaConsumerLabel, MediaTrackPreference } from '../../media/media-plane.interface';
import type { BundleRegistry } from '../sdp/bundle-registry';
import {
  type ClientMediaKnowledge,
  consumeCapabilities,
  consumerFits,
} from '../sdp/consume-capabilities';
import type { LocalSection } from '../sdp/local-description';
import type { ClientDescription, ClientSection } from '../sdp/sdp.types';
import { type AcceptedSendSection, commonCodecs } from '../sdp/send-section.acceptor';
import { type ConsumerPreferences, type ConsumerSource } from './consumer-preferences';
import { consumerMedia } from './peer-description.builder';
import { clientSends } from './peer-offer.plan';
import type { SfuProducerAppData } from './peer-producers';
import { newSlot, type PeerSlot, reusableSlot } from './peer-slot';

/** What {@link PeerSlots} needs from its peer. */
export interface PeerSlotsHost {
  readonly sessionId: string;
  /** `[key=value]` log context of the session. */
  readonly context: string;
  /** Whether the peer is closed. */
  isClosed(): boolean;
  /** The room's router now (it changes when the room moves after a worker death). */
  router(): ms.Router;
  /** The session's mediasoup transport now. */
  transport(): ms.WebRtcTransport;
  /** The session's BUNDLE numbering now (replaced when a server offer is given up). */
  bundles(): BundleRegistry;
  /** What the client has shown it can receive. */
  knowledge(): ClientMediaKnowledge;
  /** A consumer lost its producer: the client must hear of it (a server offer). */
  consumerGone(): void;
  /** How the session names a consumer of `producer` (`undefined`: the default naming). */
  consumerLabel(producer: ms.Producer): MediaConsumerLabel | undefined;
}

/**
 * The m-sections of one session ({@link PeerSlot}) and the consumers in them: the sections
 * negotiated (or offered) in order, the server slots whose consumer no offer has carried yet
 * (floating), and the mids taken back from offers the client rolled back (reclaimed). Which slot a
 * consumer goes in, its creation (paused), refitting to the client's numbering and resuming once
 * agreed all happen here; when to offer is the negotiator's business.
 */
export class PeerSlots {
  private readonly logger = new Logger(PeerSlots.name);
  /** Negotiated (or offered) sections in order. */
  private slots: PeerSlot[] = [];
  /** Server slots with a consumer that no offer has carried yet. */
  private floatingSlots: PeerSlot[] = [];
  /** Floating slots without a consumer that are offered all the same (see {@link reclaim}). */
  private readonly reclaimed = new Set<PeerSlot>();
  private serverMids = 0;

  constructor(
    private readonly host: PeerSlotsHost,
    /** What the session wants of the video it receives. */
    private readonly preferences: ConsumerPreferences,
  ) {}

  /** Negotiated (or offered) sections in order. */
  get list(): readonly PeerSlot[] {
    return this.slots;
  }

  /** Server slots not offered yet (their mids are taken). */
  get floating(): readonly PeerSlot[] {
    return this.floatingSlots;
  }

  /** The session's live producers. */
  get producers(): ms.Producer<SfuProducerAppData>[] {
    return this.slots.flatMap((s) => (s.producer && !s.producer.closed ? [s.producer] : []));
  }

  /** The session's live consumers. */
  get consumers(): ms.Consumer[] {
    return [...this.slots, ...this.floatingSlots].flatMap((s) =>
      s.consumer && !s.consumer.closed ? [s.consumer] : [],
    );
  }

  /** Whether a floating slot holds a live consumer (an offer has something to carry). */
  get hasFloatingConsumer(): boolean {
    return this.floatingSlots.some((s) => s.consumer && !s.consumer.closed);
  }

  /** Whether a reclaimed mid is still waiting for an offer. */
  get hasReclaimedWaiting(): boolean {
    return [...this.reclaimed].some((s) => this.floatingSlots.includes(s));
  }

  /** Whether the session has a data channel section. */
  get hasDataChannel(): boolean {
    return this.slots.some((s) => s.kind === 'application' && !s.rejected);
  }

  /** Takes the sections of an answered client offer, in its order. */
  adopt(slots: PeerSlot[]): void {
    this.slots = slots;
  }

  /**
   * Starts consuming another session's producer: a paused consumer in a reused or new server slot
   * (resumed once the client has the description). Skipped when it is consumed already or the
   * client cannot receive its codec (`router.canConsume`).
   * @returns whether a consumer was started (a server offer must carry it)
   */
  async consume(producer: ms.Producer): Promise<boolean> {
    if (this.consumers.some((c) => c.producerId === producer.id)) return false;
    // Local and imported producers alike carry the app data of the session that sends them.
    const appData = producer.appData as SfuProducerAppData;
    const sourceKey = `${appData.sessionId}/${appData.mid}`;
    const rtpCapabilities = this.capabilities(producer.kind);
    if (!this.host.router().canConsume({ producerId: producer.id, rtpCapabilities })) {
      this.logger.warn(
        `client cannot receive a producer [${this.host.context}, producerId=${producer.id}, codec=${producer.rtpParameters.codecs[0]?.mimeType}]`,
      );
      return false;
    }
    // A reclaimed mid may still go back to the client (releaseReclaimed): not before offered.
    const candidates = [...this.slots, ...this.floatingSlots.filter((s) => !this.reclaimed.has(s))];
    let slot = reusableSlot(candidates, producer.kind, sourceKey);
    if (!slot) {
      // Server mids ("s1", …) never collide with the numeric ones browsers generate.
      slot = newSlot(`s${++this.serverMids}`, producer.kind, 'server');
      this.floatingSlots.push(slot);
    }
    await this.startConsumer(slot, producer.id, rtpCapabilities, sourceKey, appData);
    // A session's own labels name the track itself (e.g. after its client re-created it in the
    // same section), so they are asked for every time; the default ones stay with the section.
    const label = this.host.consumerLabel(producer);
    if (label || slot.sourceKey !== sourceKey || !slot.trackId) {
      slot.streamId = label?.streamId ?? `${appData.type}_${appData.sessionId}`;
      slot.trackId =
        label?.trackId ?? `${appData.type}_${appData.sessionId}_${randomBytes(4).toString('hex')}`;
    }
    slot.sourceKey = sourceKey;
    return true;
  }

  /** Whether every consumer still agrees with the session's numbering. */
  allFit(): boolean {
    return this.consumers.every((c) => consumerFits(c.rtpParameters, this.host.bundles()));
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
  async refit(): Promise<boolean> {
    let changed = false;
    for (const slot of [...this.slots, ...this.floatingSlots]) {
      const old = slot.consumer;
      if (!old || old.closed || consumerFits(old.rtpParameters, this.host.bundles())) continue;
      changed = true;
      old.close();
      slot.consumer = null;
      const rtpCapabilities = this.capabilities(old.kind);
      if (!this.host.router().canConsume({ producerId: old.producerId, rtpCapabilities })) {
        this.logger.warn(
          `client cannot receive a producer any more [${this.host.context}, mid=${slot.mid}, producerId=${old.producerId}]`,
        );
        continue;
      }
      try {
        const consumer = await this.startConsumer(
          slot,
          old.producerId,
          rtpCapabilities,
          slot.sourceKey,
          sourceOf(old),
        );
        this.logger.log(
          `consumer re-created to fit the client's numbering [${this.host.context}, mid=${slot.mid}, extensions=${consumer.rtpParameters.headerExtensions?.map((e) => e.id).join(',') ?? ''}]`,
        );
      } catch (err) {
        this.logger.warn(
          `consumer not re-created [${this.host.context}, mid=${slot.mid}]: ${(err as Error).message}`,
        );
      }
    }
    return changed;
  }

  /** Takes the client's latest description of a section (what it sends, port 0). */
  applyClientSection(slot: PeerSlot, section: ClientSection): void {
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
    if (slot.producer) {
      this.logger.log(`client stopped sending [${this.host.context}, mid=${slot.mid}]`);
    }
    slot.producer?.close();
    slot.producer = undefined;
    slot.accepted = undefined;
    if (slot.origin === 'client') {
      slot.recvCodecs = commonCodecs(
        section,
        this.host.router().rtpCapabilities,
        this.host.bundles(),
      );
    }
  }

  /** Puts a client stream's new producer in its slot (closing the one it replaces). */
  installProducer(
    slot: PeerSlot,
    producer: ms.Producer<SfuProducerAppData>,
    accepted: AcceptedSendSection,
  ): void {
    slot.producer?.close();
    slot.producer = producer;
    slot.accepted = accepted;
    slot.recvCodecs = undefined;
    this.logger.log(
      `producer started [${this.host.context}, mid=${slot.mid}, kind=${producer.kind}, type=${producer.appData.type}, producerId=${producer.id}]`,
    );
  }

  /**
   * Re-creates the client's producers from what was negotiated (after a move to a new router).
   */
  async recreateProducers(
    create: (
      mid: string,
      accepted: AcceptedSendSection,
      section: ClientSection,
    ) => Promise<ms.Producer<SfuProducerAppData>>,
  ): Promise<void> {
    for (const slot of this.slots) {
      slot.producer = undefined;
      if (slot.accepted && slot.client && !slot.rejected) {
        slot.producer = await create(slot.mid, slot.accepted, slot.client);
      }
    }
  }

  /**
   * Puts the floating slots that have something to send (a live consumer, or a reclaimed mid)
   * at the end of the sections, and marks every server slot's consumer as offered.
   * @returns the slots added, and each server slot with the consumer the offer sends (`null`: inactive)
   */
  prepareOffer(): { added: PeerSlot[]; included: Map<PeerSlot, ms.Consumer | null> } {
    const added = this.floatingSlots.filter(
      (s) => (s.consumer && !s.consumer.closed) || this.reclaimed.has(s),
    );
    this.floatingSlots = this.floatingSlots.filter((s) => !added.includes(s));
    this.slots.push(...added);
    const included = new Map<PeerSlot, ms.Consumer | null>();
    for (const slot of this.slots) {
      if (slot.origin !== 'server' || slot.rejected) continue;
      const consumer = slot.consumer && !slot.consumer.closed ? slot.consumer : null;
      slot.offered = consumer;
      included.set(slot, consumer);
    }
    return { added, included };
  }

  /** The client answered the server offer: what it offered is agreed, consumers resumed. */
  async offerAnswered(included: ReadonlyMap<PeerSlot, ms.Consumer | null>): Promise<void> {
    for (const [slot, consumer] of included) {
      slot.offered = undefined;
      slot.negotiated = consumer;
      if (!slot.rejected) await this.resume(consumer);
    }
  }

  /** The reclaimed mids an answered offer carried are ordinary server slots now. */
  reclaimedOffered(added: readonly PeerSlot[]): void {
    added.forEach((s) => this.reclaimed.delete(s));
  }

  /** A server offer was given up: its new slots float again, nothing of it counts as offered. */
  offerGivenUp(added: readonly PeerSlot[], included: Iterable<PeerSlot>): void {
    this.slots = this.slots.filter((s) => !added.includes(s));
    this.floatingSlots.unshift(...added);
    for (const slot of included) slot.offered = undefined;
  }

  /**
   * The server answered a client offer with `sections`: each server slot's consumer is agreed if
   * the answer sends it (and resumed), else none is.
   */
  async answerSent(sections: readonly LocalSection[]): Promise<void> {
    for (const [i, slot] of this.slots.entries()) {
      if (slot.origin !== 'server') continue;
      const sent = sections[i];
      const sends =
        sent.kind !== null &&
        sent.kind !== 'application' &&
        (sent.direction === 'sendonly' || sent.direction === 'sendrecv');
      slot.negotiated = sends ? slot.consumer : null;
      await this.resume(slot.negotiated);
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
   * @returns how many mids were taken
   */
  reclaim(rolledBack: ClientDescription): number {
    const taken = new Set([...this.slots, ...this.floatingSlots].map((s) => s.mid));
    const before = this.reclaimed.size;
    for (const section of rolledBack.sections) {
      if (taken.has(section.mid) || section.rejected) continue;
      if (section.kind !== 'audio' && section.kind !== 'video') continue;
      const codecs = commonCodecs(section, this.host.router().rtpCapabilities, this.host.bundles());
      if (codecs.length === 0) continue;
      const slot = newSlot(section.mid, section.kind, 'server');
      slot.lastCodecs = codecs;
      slot.lastExtensions = [];
      this.floatingSlots.push(slot);
      this.reclaimed.add(slot);
      this.logger.log(
        `rolled-back mid taken as a server section [${this.host.context}, mid=${slot.mid}]`,
      );
    }
    return this.reclaimed.size - before;
  }

  /**
   * A client that names a reclaimed mid again in a new offer (one that reuses the mids of what
   * it rolled back) replaces that mid's numbering itself: the mid is the client's again.
   */
  releaseReclaimed(offer: ClientDescription): void {
    for (const slot of [...this.reclaimed]) {
      if (!this.floatingSlots.includes(slot) || !offer.sections.some((s) => s.mid === slot.mid)) {
        continue;
      }
      this.reclaimed.delete(slot);
      this.floatingSlots = this.floatingSlots.filter((s) => s !== slot);
    }
  }

  /**
   * Sets what the session wants of one producer's video (see {@link ConsumerPreferences}) and
   * applies it to its consumer, if there is one.
   */
  async prefer(producerId: string, preference: MediaTrackPreference): Promise<void> {
    this.preferences.set(producerId, preference);
    await Promise.all(
      this.consumers.filter((c) => c.producerId === producerId).map((c) => this.applySettings(c)),
    );
  }

  /** Applies the preferences again to every consumer (its producer's labels changed). */
  async refresh(): Promise<void> {
    await Promise.all(this.consumers.map((c) => this.applySettings(c)));
  }

  /** Resumes an agreed consumer (created paused), unless the session does not want it. */
  async resume(consumer: ms.Consumer | null): Promise<void> {
    if (!consumer || !consumer.paused || consumer.closed) return;
    if (this.preferences.settings(consumer, sourceOf(consumer)).disabled) return;
    // The producer may close meanwhile (its owner left): the worker then no longer knows the
    // consumer, and the 'producerclose' event frees the slot; nothing to resume.
    await consumer.resume().catch((err: unknown) => {
      if (!consumer.closed && !/not found/i.test((err as Error).message)) throw err;
    });
  }

  private capabilities(kind: 'audio' | 'video'): ms.RtpCapabilities {
    return consumeCapabilities(
      this.host.router().rtpCapabilities,
      kind,
      this.host.knowledge(),
      this.host.bundles(),
    );
  }

  /**
   * Brings a consumer in line with the session's preference: priority and preferred layers, and
   * paused while the session does not want it (else resumed once agreed with the client).
   */
  private async applySettings(consumer: ms.Consumer): Promise<void> {
    const settings = this.preferences.settings(consumer, sourceOf(consumer));
    const agreed = this.slots.some((s) => s.negotiated === consumer);
    try {
      if (consumer.priority !== settings.priority) await consumer.setPriority(settings.priority);
      const layers = settings.layers;
      const preferred = consumer.preferredLayers;
      if (
        layers &&
        (preferred?.spatialLayer !== layers.spatialLayer ||
          preferred.temporalLayer !== layers.temporalLayer)
      ) {
        await consumer.setPreferredLayers(layers);
      }
      if (settings.disabled) {
        if (!consumer.paused) await consumer.pause();
      } else if (agreed) {
        await this.resume(consumer);
      }
    } catch (err) {
      // Closed meanwhile (its producer or transport went): nothing to set.
      if (!consumer.closed && !/not found/i.test((err as Error).message)) throw err;
    }
  }

  /** Creates a paused consumer in `slot` (resumed once a description with it is agreed). */
  private async startConsumer(
    slot: PeerSlot,
    producerId: string,
    rtpCapabilities: ms.RtpCapabilities,
    sourceKey: string | undefined,
    source: ConsumerSource | undefined,
  ): Promise<ms.Consumer> {
    const consumer = await this.host.transport().consume({
      producerId,
      rtpCapabilities,
      paused: true,
      mid: slot.mid,
      // The producer's own app data object: labels changed later (screen, camera) are seen here.
      appData: { sessionId: this.host.sessionId, sourceKey, source },
    });
    slot.consumer = consumer;
    const media = consumerMedia(consumer);
    slot.lastCodecs = media.codecs;
    slot.lastExtensions = media.extensions;
    consumer.on('producerclose', () => {
      this.preferences.forget(producerId);
      if (slot.consumer !== consumer) return;
      slot.consumer = null;
      if (!this.host.isClosed()) this.host.consumerGone();
    });
    consumer.on('transportclose', () => {
      if (slot.consumer === consumer) slot.consumer = null;
    });
    await this.applySettings(consumer);
    return consumer;
  }
}

/** The labels of a consumer's producer (the app data object it was created with). */
function sourceOf(consumer: ms.Consumer): ConsumerSource | undefined {
  return (consumer.appData as { source?: ConsumerSource }).source;
}
