import type { types as ms } from 'mediasoup';
import type { BundleRegistry } from './bundle-registry';
import { isRtx, sameCodec } from './codec-match';
import type { MediaKind, SdpCodec } from './sdp.types';

/** What a client has shown it can receive, from the codecs and extensions of its descriptions. */
export interface ClientMediaKnowledge {
  /** Codecs seen in the client's sections of this kind; absent when it has shown none yet. */
  readonly codecs: ReadonlyMap<MediaKind, readonly SdpCodec[]>;
  readonly extensionUris: ReadonlyMap<MediaKind, ReadonlySet<string>>;
}

function asSdpCodec(c: ms.RtpCodecCapability | ms.RtpCodecParameters): SdpCodec {
  return {
    payloadType: 'preferredPayloadType' in c ? c.preferredPayloadType : c.payloadType,
    mimeType: c.mimeType,
    clockRate: c.clockRate,
    channels: c.channels,
    parameters: (c.parameters ?? {}) as Record<string, string | number>,
    rtcpFeedback: c.rtcpFeedback ?? [],
  };
}

/**
 * The RTP capabilities to consume a producer of `kind` with, for one client: the router's codecs
 * and header extensions of that kind (consumers always use the router's payload types and ids),
 * minus what the client has shown it lacks and minus every number that would clash with one its
 * BUNDLE already uses for something else (see {@link BundleRegistry}). Extensions are kept only
 * where the client itself already uses the router's id for the same URI: a server offer never
 * introduces an id (a crossing client offer may number it otherwise). Before a client has
 * described any section of a kind, the router's codecs are assumed (WebRTC's mandatory codecs,
 * Opus and VP8, are always in it). Only the kind's extensions are listed: mediasoup matches a
 * consumer's extensions by id and URI alone, so another kind's entry would let them through.
 */
export function consumeCapabilities(
  routerCaps: ms.RtpCapabilities,
  kind: MediaKind,
  client: ClientMediaKnowledge,
  bundles: BundleRegistry,
): ms.RtpCapabilities {
  const all = (routerCaps.codecs ?? []).filter((c) => c.kind === kind);
  const known = client.codecs.get(kind);
  const usable = (c: ms.RtpCodecCapability): boolean => {
    if (!bundles.consumerPayloadTypeAllowed(asSdpCodec(c))) return false;
    if (!known) return true;
    if (isRtx(c)) return known.some(isRtx);
    return known.some((k) => sameCodec(k, c));
  };
  const media = all.filter((c) => !isRtx(c) && usable(c));
  const codecs = all.filter((c) =>
    isRtx(c)
      ? usable(c) && media.some((m) => m.preferredPayloadType === Number(c.parameters?.apt))
      : media.includes(c),
  );
  const knownUris = client.extensionUris.get(kind);
  const headerExtensions = (routerCaps.headerExtensions ?? []).filter(
    (e) =>
      e.kind === kind &&
      (e.direction === 'sendrecv' || e.direction === 'sendonly') &&
      bundles.consumerExtensionAllowed(e.preferredId, e.uri) &&
      (!knownUris || knownUris.has(e.uri)),
  );
  return { codecs, headerExtensions };
}

/**
 * Whether a consumer's payload types and extension ids still agree with every number the
 * session uses. One that no longer does (the client took one of the router's numbers for
 * something else) has to be made again: mediasoup cannot renumber what a consumer writes.
 */
export function consumerFits(parameters: ms.RtpParameters, bundles: BundleRegistry): boolean {
  return (
    parameters.codecs.every((c) => bundles.consumerPayloadTypeAllowed(asSdpCodec(c))) &&
    (parameters.headerExtensions ?? []).every((e) => bundles.consumerExtensionAllowed(e.id, e.uri))
  );
}
