import type { types as ms } from 'mediasoup';
import type { AcceptedSendSection } from '../sdp/send-section.acceptor';
import type { SfuProducerAppData } from './peer-producers';
import type { ClientSection, SdpCodec, SdpHeaderExtension, SectionKind } from '../sdp/sdp.types';

/**
 * One m-section of a session (its mid never changes). `client` slots were created by the
 * client's offers (it may send media in them); `server` slots were created by the server's offers
 * to carry one consumer each. Removed consumers leave their slot `inactive`, and a later consumer
 * of the same kind reuses it (same mid), like Mattermost's rtcd reuses transceivers.
 */
export interface PeerSlot {
  readonly mid: string;
  readonly kind: SectionKind | null;
  readonly origin: 'client' | 'server';
  /** The client's latest description of this section. */
  client?: ClientSection;
  /** Port 0 (rejected or stopped); never used again. */
  rejected: boolean;

  /** Client slots the client sends in: what the server accepted. */
  accepted?: AcceptedSendSection;
  /** The producer of an accepted client slot (absent while it is being re-created). */
  producer?: ms.Producer<SfuProducerAppData>;
  /** Client slots the client does not send in: a codec to keep the section valid. */
  recvCodecs?: readonly SdpCodec[];

  /** Server slots: the consumer the server wants to send now. */
  consumer: ms.Consumer | null;
  /** `sessionId/mid` of the producer the consumer forwards (kept when the consumer goes). */
  sourceKey?: string;
  streamId?: string;
  trackId?: string;
  /** Codecs and extensions of the last consumer, to describe the section while inactive. */
  lastCodecs?: readonly SdpCodec[];
  lastExtensions?: readonly SdpHeaderExtension[];
  /** Consumer in the pending server offer (`undefined`: not part of it). */
  offered?: ms.Consumer | null;
  /** Consumer the client has agreed to receive. */
  negotiated: ms.Consumer | null;
}

/** A new slot of the given origin. */
export function newSlot(
  mid: string,
  kind: SectionKind | null,
  origin: 'client' | 'server',
): PeerSlot {
  return { mid, kind, origin, rejected: false, consumer: null, negotiated: null };
}

/**
 * A server slot that can take a consumer of `kind` forwarding `sourceKey`: one that carried the
 * same source before (after a worker restart the tracks keep their mids), else an idle one.
 */
export function reusableSlot(
  slots: readonly PeerSlot[],
  kind: 'audio' | 'video',
  sourceKey: string,
): PeerSlot | undefined {
  const free = slots.filter(
    (s) =>
      s.origin === 'server' &&
      s.kind === kind &&
      !s.rejected &&
      (s.consumer === null || s.consumer.closed) &&
      (s.offered === undefined || s.offered === null || s.offered.closed),
  );
  return (
    free.find((s) => s.sourceKey === sourceKey) ??
    free.find((s) => s.negotiated === null) ??
    free.find((s) => s.negotiated?.closed === true)
  );
}
