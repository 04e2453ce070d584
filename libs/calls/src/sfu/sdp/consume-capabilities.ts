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

/**
 * The RTP capabilities to consume with for one client: the router's codecs and header
 * extensions (consumers always use the router's payload types and ids), minus what the client
 * has shown it lacks and minus what would clash with numbers its BUNDLE already uses. Before a
 * client has described any section of a kind, the router's list is assumed (WebRTC's mandatory
 * codecs, Opus and VP8, are always in it).
 */
export function consumeCapabilities(
  routerCaps: ms.RtpCapabilities,
  client: ClientMediaKnowledge,
  registry: BundleRegistry,
): ms.RtpCapabilities {
  const all = routerCaps.codecs ?? [];
  const usable = (c: ms.RtpCodecCapability): boolean => {
    const sdp: SdpCodec = {
      payloadType: c.preferredPayloadType,
      mimeType: c.mimeType,
      clockRate: c.clockRate,
      channels: c.channels,
      parameters: (c.parameters ?? {}) as Record<string, string | number>,
      rtcpFeedback: c.rtcpFeedback ?? [],
    };
    if (!registry.payloadTypeAllowed(sdp)) return false;
    const known = client.codecs.get(c.kind);
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
  const headerExtensions = (routerCaps.headerExtensions ?? []).filter((e) => {
    if (e.direction !== 'sendrecv' && e.direction !== 'sendonly') return false;
    if (!registry.extensionAllowed(e.preferredId, e.uri)) return false;
    const known = client.extensionUris.get(e.kind);
    return !known || known.has(e.uri);
  });
  return { codecs, headerExtensions };
}
