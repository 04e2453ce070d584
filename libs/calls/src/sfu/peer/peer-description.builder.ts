import type { types as ms } from 'mediasoup';
import type { PeerSlot } from './peer-slot';
import type { BundleRegistry } from '../sdp/bundle-registry';
import { sameCodec } from '../sdp/codec-match';
import type { LocalRtpSection, LocalSection } from '../sdp/local-description';
import type { ClientSection, Direction, SdpCodec, SdpHeaderExtension } from '../sdp/sdp.types';

/** SCTP settings of the server's data channel section (mediasoup's defaults). */
export const SCTP_PORT = 5000;
export const MAX_SCTP_MESSAGE_SIZE = 262144;

/** A mediasoup codec (consumer parameters) as an SDP codec. */
export function sdpCodecOf(codec: ms.RtpCodecParameters): SdpCodec {
  const parameters: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(codec.parameters ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') parameters[key] = value;
  }
  return {
    payloadType: codec.payloadType,
    mimeType: codec.mimeType,
    clockRate: codec.clockRate,
    channels: codec.channels,
    parameters,
    rtcpFeedback: codec.rtcpFeedback ?? [],
  };
}

/** Codecs and extensions of a consumer, in SDP terms. */
export function consumerMedia(consumer: ms.Consumer): {
  codecs: SdpCodec[];
  extensions: SdpHeaderExtension[];
} {
  return {
    codecs: consumer.rtpParameters.codecs.map(sdpCodecOf),
    extensions: (consumer.rtpParameters.headerExtensions ?? []).map((e) => ({
      id: e.id,
      uri: e.uri,
    })),
  };
}

function receives(direction: Direction | undefined): boolean {
  return direction === undefined || direction === 'recvonly' || direction === 'sendrecv';
}

/** Whether every codec of `ours` appears with the same payload type in the client's section. */
function offeredByClient(ours: readonly SdpCodec[], client: ClientSection): boolean {
  return ours.every((c) =>
    client.codecs.some((k) => k.payloadType === c.payloadType && sameCodec(k, c)),
  );
}

/**
 * Describes one slot in the server's offer or answer (`answering` is the client's section when
 * answering). Every codec and extension goes through the session's BUNDLE registry, which
 * records its number and returns the session's one format line for it.
 */
export function describeSlot(
  slot: PeerSlot,
  bundles: BundleRegistry,
  answering?: ClientSection,
): LocalSection {
  const client = answering ?? slot.client;
  const protocol =
    client?.protocol ?? (slot.kind === 'application' ? 'UDP/DTLS/SCTP' : 'UDP/TLS/RTP/SAVPF');
  if (slot.kind === null) {
    return {
      kind: null,
      mid: slot.mid,
      mediaType: client?.mediaType ?? 'unknown',
      protocol,
      rejected: true,
      payloads:
        client?.codecs[0]?.payloadType.toString() ??
        (client?.mediaType === 'application' ? 'webrtc-datachannel' : '0'),
    };
  }
  if (slot.kind === 'application') {
    return {
      kind: 'application',
      mid: slot.mid,
      protocol,
      rejected: slot.rejected,
      sctpPort: SCTP_PORT,
      maxMessageSize: MAX_SCTP_MESSAGE_SIZE,
      legacySctp: client?.legacySctp ?? false,
    };
  }
  const register = (codecs: readonly SdpCodec[]) => codecs.map((c) => bundles.register(c));
  const registerExtensions = (extensions: readonly SdpHeaderExtension[]) => {
    extensions.forEach((e) => bundles.registerExtension(e.id, e.uri));
    return extensions;
  };
  // Ids the session already gives another meaning are left out (consumers are re-created to fit
  // before they are described, so this only guards the description); an answer keeps only what
  // the client offered in the section, under the same id.
  const clientNumbered = (e: SdpHeaderExtension) => bundles.extensionAllowed(e.id, e.uri);
  const routerNumbered = (e: SdpHeaderExtension) => bundles.consumerExtensionAllowed(e.id, e.uri);
  const offered = (e: SdpHeaderExtension) =>
    !answering || answering.headerExtensions.some((o) => o.id === e.id && o.uri === e.uri);
  // What the client sends here (any slot) and the consumer the server sends (server slots).
  const recv = slot.accepted && !slot.rejected ? slot.accepted : undefined;
  let consumer: ms.Consumer | null = null;
  let sent: { codecs: SdpCodec[]; extensions: SdpHeaderExtension[] } = {
    codecs: [],
    extensions: [],
  };
  if (slot.origin === 'server' && slot.consumer && !slot.consumer.closed && !slot.rejected) {
    sent = consumerMedia(slot.consumer);
    const taken =
      !answering || (receives(answering.direction) && offeredByClient(sent.codecs, answering));
    if (taken) consumer = slot.consumer;
  }
  const direction: Direction =
    consumer && recv ? 'sendrecv' : consumer ? 'sendonly' : recv ? 'recvonly' : 'inactive';
  let codecs = uniqueBy(
    [...(consumer ? sent.codecs : []), ...(recv?.codecs ?? [])],
    (c) => c.payloadType,
  );
  let extensions = uniqueBy(
    [
      ...(consumer ? sent.extensions.filter(routerNumbered) : []),
      ...(recv?.headerExtensions.filter(clientNumbered) ?? []),
    ],
    (e) => e.id,
  ).filter(offered);
  if (codecs.length === 0) {
    // Inactive: keep the section valid with a codec it had (or the client's first one).
    const previous = slot.recvCodecs ?? slot.lastCodecs ?? [];
    codecs =
      answering && !offeredByClient(previous, answering)
        ? answering.codecs.slice(0, 1).map((c) => ({ ...c, rtcpFeedback: [] }))
        : [...previous];
    extensions = answering ? [] : (slot.lastExtensions ?? []).filter(routerNumbered);
  }
  const section: LocalRtpSection = {
    kind: slot.kind,
    mid: slot.mid,
    protocol,
    rejected: slot.rejected,
    rtcpReducedSize: true,
    direction,
    codecs: register(codecs),
    headerExtensions: registerExtensions(extensions),
    recvRids: recv?.rids,
  };
  if (!consumer) return section;
  return {
    ...section,
    send: {
      ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
      rtxSsrc: consumer.rtpParameters.encodings?.[0]?.rtx?.ssrc,
      cname: consumer.rtpParameters.rtcp?.cname ?? 'sfu',
      streamId: slot.streamId ?? '-',
      trackId: slot.trackId ?? slot.mid,
    },
  };
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  const seen = new Set<number>();
  return items.filter((item) => {
    if (seen.has(key(item))) return false;
    seen.add(key(item));
    return true;
  });
}
