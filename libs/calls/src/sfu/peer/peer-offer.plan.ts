import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { newSlot, type PeerSlot } from './peer-slot';
import type { BundleRegistry } from '../sdp/bundle-registry';
import type { ClientDescription, ClientSection } from '../sdp/sdp.types';
import { type AcceptedSendSection, acceptSendSection } from '../sdp/send-section.acceptor';

/** What answering a client offer will change, worked out before anything changes. */
export interface OfferPlan {
  /** The session's sections in the offer's order (existing slots and new client slots). */
  readonly slots: PeerSlot[];
  readonly sections: { readonly slot: PeerSlot; readonly section: ClientSection }[];
  /** Sections whose client stream is new or changed: a producer to create. */
  readonly produce: { readonly slot: PeerSlot; readonly accepted: AcceptedSendSection }[];
  /** The offer brings the session's data channel section. */
  readonly dataChannel: boolean;
}

/** The session state a plan is checked against. */
export interface OfferPlanInput {
  readonly sessionId: string;
  readonly slots: readonly PeerSlot[];
  /** Server slots not offered yet (their mids are taken). */
  readonly floating: readonly PeerSlot[];
  /** The client's DTLS fingerprint once connected (it may not change). */
  readonly remoteFingerprint: string | null;
  readonly routerCapabilities: ms.RtpCapabilities;
  readonly bundles: BundleRegistry;
}

/**
 * Whether the client sends media in the section. In a section the server created (to send a
 * consumer), a client may send too: Chrome's `addTrack` reuses such a transceiver, which is how
 * Mattermost's microphone usually arrives. A send direction without a MediaStream there is no
 * real track (Mattermost flips received video transceivers to `sendrecv` without one).
 */
export function clientSends(slot: PeerSlot, section: ClientSection): boolean {
  if (slot.kind !== 'audio' && slot.kind !== 'video') return false;
  if (section.direction !== 'sendonly' && section.direction !== 'sendrecv') return false;
  if (slot.origin === 'server') return !!section.msid && section.msid.streamId !== '-';
  return true;
}

/** Whether a section still carries the same client streams (codec and SSRCs/rids). */
export function sameStreams(slot: PeerSlot, accepted: AcceptedSendSection): boolean {
  const before = slot.accepted?.rtpParameters;
  if (!before) return false;
  const key = (p: ms.RtpParameters) =>
    JSON.stringify({
      pt: p.codecs[0]?.payloadType,
      enc: (p.encodings ?? []).map((e) => [e.ssrc, e.rid, e.rtx?.ssrc]),
    });
  return key(before) === key(accepted.rtpParameters);
}

/**
 * Checks a client offer against the negotiated sections (same mids in the same order, new ones
 * appended or recycling rejected ones, one data channel section, the same DTLS fingerprint) and
 * decides which client streams need producers. Nothing is changed.
 * @throws InvalidSdpError, NoCommonCodecError
 */
export function planClientOffer(input: OfferPlanInput, offer: ClientDescription): OfferPlan {
  const { sessionId } = input;
  if (offer.sections.length < input.slots.length) {
    throw new InvalidSdpError(
      `offer has ${offer.sections.length} m= sections, ${input.slots.length} were negotiated`,
      sessionId,
    );
  }
  const fingerprint = offer.dtls.fingerprints[0]?.value ?? '';
  if (input.remoteFingerprint !== null && fingerprint !== input.remoteFingerprint) {
    throw new InvalidSdpError(
      'the DTLS fingerprint changed (DTLS restart is not supported)',
      sessionId,
    );
  }
  const slots: PeerSlot[] = [];
  const sections: { slot: PeerSlot; section: ClientSection }[] = [];
  const produce: { slot: PeerSlot; accepted: AcceptedSendSection }[] = [];
  const takenMids = new Set([...input.slots, ...input.floating].map((s) => s.mid));
  let dataChannel = false;
  let hasApplication = input.slots.some((s) => s.kind === 'application' && !s.rejected);
  for (const section of offer.sections) {
    let slot: PeerSlot | undefined = input.slots[section.index];
    if (slot && slot.mid !== section.mid) {
      if (!slot.rejected) {
        throw new InvalidSdpError(
          `m= section ${section.index} is mid ${section.mid}, negotiated as ${slot.mid}`,
          sessionId,
        );
      }
      slot = undefined; // the client recycles a rejected section
    }
    if (!slot) {
      if (takenMids.has(section.mid) && !input.slots[section.index]) {
        throw new InvalidSdpError(`mid ${section.mid} is already in use`, sessionId);
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
    const accepted = acceptSendSection(section, input.routerCapabilities, input.bundles);
    const live = slot.producer && !slot.producer.closed;
    if (!live || !sameStreams(slot, accepted)) produce.push({ slot, accepted });
  }
  return { slots, sections, produce, dataChannel };
}
