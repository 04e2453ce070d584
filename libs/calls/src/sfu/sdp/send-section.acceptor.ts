import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { NoCommonCodecError } from '../../errors/no-common-codec.error';
import type { BundleRegistry } from './bundle-registry';
import { isMediaCodec, isRtx, sameCodec } from './codec-match';
import type { ClientSection, MediaKind, SdpCodec, SdpHeaderExtension } from './sdp.types';

const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const MAX_SIMULCAST_STREAMS = 4;
/**
 * The temporal layers each simulcast stream is taken to have. Browsers send VP8 simulcast
 * streams with up to three temporal layers (VP8's frame tags say which); without a scalability
 * mode mediasoup takes a stream for one temporal layer and forwards only its base frames (a 10 fps
 * stream arrives at 2.5 fps). Announcing more layers than a stream has costs nothing: a stream
 * with fewer (or a codec without temporal layer marks) is forwarded whole.
 */
const SIMULCAST_SCALABILITY_MODE = 'L1T3';

/** What the server accepts of a section the client sends in. */
export interface AcceptedSendSection {
  /** Parameters for `transport.produce()` (the client's payload types and extension ids). */
  readonly rtpParameters: ms.RtpParameters;
  /** The codecs of the answer: the first common media codec and its RTX. */
  readonly codecs: readonly SdpCodec[];
  readonly headerExtensions: readonly SdpHeaderExtension[];
  /** Simulcast rids (empty without simulcast). */
  readonly rids: readonly string[];
}

function routerExtension(
  caps: ms.RtpCapabilities,
  kind: MediaKind,
  uri: string,
): ms.RtpHeaderExtension | undefined {
  return (caps.headerExtensions ?? []).find(
    (e) =>
      e.kind === kind &&
      e.uri === uri &&
      (e.direction === 'sendrecv' || e.direction === 'recvonly'),
  );
}

/**
 * Whether the client's MID extension must be left out: mediasoup writes the router's ids into
 * every packet it forwards, whatever a consumer negotiated (abs-send-time 4 on video, …). A MID
 * under an id the router uses for something else makes the client read that value as an unknown
 * MID and drop the packet (BUNDLE demuxing: Chrome numbers a first microphone section mid 4).
 * Without it, streams are told apart by SSRC or rid, so it is kept only when nothing else names them.
 */
function midClashesWithRouter(
  e: SdpHeaderExtension,
  caps: ms.RtpCapabilities,
  section: ClientSection,
): boolean {
  return (
    e.uri === MID_URI &&
    (section.encodings.length > 0 || section.simulcast) &&
    (caps.headerExtensions ?? []).some((r) => r.preferredId === e.id && r.uri !== MID_URI)
  );
}

/**
 * Chooses what the server receives from a section the client sends in: the client's first media
 * codec the router supports (and its RTX), the header extensions the router understands, and the
 * streams (SSRCs with their RTX SSRCs, or simulcast rids). Payload types and extension ids stay
 * the client's, unless they would clash with ones the session already uses.
 * @throws NoCommonCodecError when no offered media codec is supported
 * @throws InvalidSdpError when the streams cannot be identified
 */
export function acceptSendSection(
  section: ClientSection,
  routerCaps: ms.RtpCapabilities,
  bundles: BundleRegistry,
): AcceptedSendSection {
  const kind = section.kind;
  if (kind !== 'audio' && kind !== 'video') {
    throw new InvalidSdpError(`section ${section.mid} is not an RTP section`);
  }
  const routerCodecs = (routerCaps.codecs ?? []).filter((c) => c.kind === kind && isMediaCodec(c));
  const chosen = section.codecs.find(
    (c) =>
      isMediaCodec(c) &&
      bundles.payloadTypeAllowed(c) &&
      routerCodecs.some((rc) => sameCodec(c, rc)),
  );
  if (!chosen) {
    throw new NoCommonCodecError(
      kind,
      section.mid,
      section.codecs.filter(isMediaCodec).map((c) => c.mimeType.split('/')[1]),
    );
  }
  const routerCodec = routerCodecs.find((rc) => sameCodec(chosen, rc));
  const supportedFeedback = routerCodec?.rtcpFeedback ?? [];
  const feedback = chosen.rtcpFeedback.filter((fb) =>
    supportedFeedback.some(
      (s) => s.type === fb.type && (s.parameter ?? '') === (fb.parameter ?? ''),
    ),
  );
  const media: SdpCodec = { ...chosen, rtcpFeedback: feedback };
  const rtx = section.codecs.find(
    (c) =>
      isRtx(c) &&
      String(c.parameters.apt) === String(chosen.payloadType) &&
      bundles.payloadTypeAllowed(c),
  );
  const codecs: SdpCodec[] = rtx ? [media, { ...rtx, rtcpFeedback: [] }] : [media];

  const headerExtensions = section.headerExtensions.filter(
    (e) =>
      routerExtension(routerCaps, kind, e.uri) !== undefined &&
      bundles.extensionAllowed(e.id, e.uri) &&
      !midClashesWithRouter(e, routerCaps, section),
  );
  const hasExtension = (uri: string) => headerExtensions.some((e) => e.uri === uri);

  let encodings: ms.RtpEncodingParameters[];
  let rids: string[] = [];
  if (section.simulcast) {
    if (!hasExtension(RID_URI)) {
      throw new InvalidSdpError(
        `simulcast in section ${section.mid} without the rtp-stream-id extension`,
      );
    }
    rids = section.encodings.flatMap((e) => (e.rid ? [e.rid] : [])).slice(0, MAX_SIMULCAST_STREAMS);
    encodings = rids.map((rid) => ({ rid, scalabilityMode: SIMULCAST_SCALABILITY_MODE }));
  } else if (section.encodings.length > 0) {
    encodings = section.encodings.slice(0, MAX_SIMULCAST_STREAMS).map((e) => ({
      ssrc: e.ssrc,
      ...(rtx && e.rtxSsrc !== undefined ? { rtx: { ssrc: e.rtxSsrc } } : {}),
    }));
  } else if (hasExtension(MID_URI)) {
    encodings = [{}];
  } else {
    throw new InvalidSdpError(
      `section ${section.mid} names no stream (no a=ssrc, rid or mid extension)`,
    );
  }

  return {
    rtpParameters: {
      mid: section.mid,
      codecs: codecs.map((c) => ({
        mimeType: c.mimeType,
        payloadType: c.payloadType,
        clockRate: c.clockRate,
        ...(c.channels !== undefined && kind === 'audio' ? { channels: c.channels } : {}),
        parameters: { ...c.parameters },
        rtcpFeedback: [...c.rtcpFeedback],
      })),
      headerExtensions: headerExtensions.map((e) => ({
        uri: e.uri as ms.RtpHeaderExtensionUri,
        id: e.id,
      })),
      encodings,
      rtcp: { cname: section.cname, reducedSize: section.rtcpReducedSize },
    },
    codecs,
    headerExtensions,
    rids,
  };
}

/**
 * The codecs the server lists for a section the client only receives in (or that it rejects):
 * the first common media codec, so that the section stays valid.
 */
export function commonCodecs(
  section: ClientSection,
  routerCaps: ms.RtpCapabilities,
  bundles: BundleRegistry,
): SdpCodec[] {
  const chosen = section.codecs.find(
    (c) =>
      isMediaCodec(c) &&
      bundles.payloadTypeAllowed(c) &&
      (routerCaps.codecs ?? []).some((rc) => rc.kind === section.kind && sameCodec(c, rc)),
  );
  return chosen ? [{ ...chosen, rtcpFeedback: [] }] : [];
}
