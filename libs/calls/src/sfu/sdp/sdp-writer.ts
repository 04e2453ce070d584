import * as sdpTransform from 'sdp-transform';
import type {
  LocalApplicationSection,
  LocalDescription,
  LocalRtpSection,
  LocalSection,
  LocalTransportParameters,
} from './local-description';
import type { SdpCodec } from './sdp.types';

type MediaDescription = sdpTransform.MediaDescription;

function codecName(codec: SdpCodec): string {
  return codec.mimeType.split('/')[1] ?? codec.mimeType;
}

function fmtpConfig(codec: SdpCodec): string | undefined {
  const entries = Object.entries(codec.parameters);
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(';') : undefined;
}

function transportAttributes(
  transport: LocalTransportParameters,
  mid: string,
  withCandidates: boolean,
): Partial<MediaDescription> {
  return {
    connection: { version: 4, ip: '127.0.0.1' },
    iceUfrag: transport.ice.usernameFragment,
    icePwd: transport.ice.password,
    setup: transport.setup,
    mid,
    ...(withCandidates
      ? {
          candidates: transport.candidates.map((c) => ({
            foundation: c.foundation,
            component: 1,
            transport: c.protocol,
            priority: c.priority,
            ip: c.address,
            port: c.port,
            type: c.type,
            ...(c.tcpType ? { tcptype: c.tcpType } : {}),
          })),
          endOfCandidates: 'end-of-candidates' as const,
        }
      : {}),
  };
}

function rtpSection(s: LocalRtpSection, transport: LocalTransportParameters): MediaDescription {
  const codecs = s.codecs.length > 0 ? s.codecs : [];
  const m: MediaDescription = {
    type: s.kind,
    port: s.rejected ? 0 : 7,
    protocol: s.protocol,
    payloads: codecs.length > 0 ? codecs.map((c) => c.payloadType).join(' ') : '0',
    ...transportAttributes(transport, s.mid, !s.rejected),
    direction: s.rejected ? 'inactive' : s.direction,
    rtp: codecs.map((c) => ({
      payload: c.payloadType,
      codec: codecName(c),
      rate: c.clockRate,
      ...(s.kind === 'audio' && (c.channels ?? 1) > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: codecs.flatMap((c) => {
      const config = fmtpConfig(c);
      return config ? [{ payload: c.payloadType, config }] : [];
    }),
    rtcpFb: codecs.flatMap((c) =>
      c.rtcpFeedback.map((fb) => ({
        payload: c.payloadType,
        type: fb.type,
        ...(fb.parameter ? { subtype: fb.parameter } : {}),
      })),
    ),
    ext: s.headerExtensions.map((e) => ({ value: e.id, uri: e.uri })),
    rtcpMux: 'rtcp-mux',
    ...(s.rtcpReducedSize ? { rtcpRsize: 'rtcp-rsize' as const } : {}),
  };
  if (s.send && !s.rejected && (s.direction === 'sendonly' || s.direction === 'sendrecv')) {
    const { ssrc, rtxSsrc, cname, streamId, trackId } = s.send;
    m.msid = [{ id: streamId, appdata: trackId }];
    m.ssrcs = [
      { id: ssrc, attribute: 'cname', value: cname },
      { id: ssrc, attribute: 'msid', value: `${streamId} ${trackId}` },
    ];
    if (rtxSsrc !== undefined) {
      m.ssrcs.push(
        { id: rtxSsrc, attribute: 'cname', value: cname },
        { id: rtxSsrc, attribute: 'msid', value: `${streamId} ${trackId}` },
      );
      m.ssrcGroups = [{ semantics: 'FID', ssrcs: `${ssrc} ${rtxSsrc}` }];
    }
  }
  if (s.recvRids && s.recvRids.length > 0 && !s.rejected) {
    m.rids = s.recvRids.map((id) => ({ id, direction: 'recv' }));
    m.simulcast = { dir1: 'recv', list1: s.recvRids.join(';') };
  }
  return m;
}

function applicationSection(
  s: LocalApplicationSection,
  transport: LocalTransportParameters,
): MediaDescription {
  const m: MediaDescription = {
    type: 'application',
    port: s.rejected ? 0 : 7,
    protocol: s.protocol,
    payloads: s.legacySctp ? String(s.sctpPort) : 'webrtc-datachannel',
    ...transportAttributes(transport, s.mid, !s.rejected),
    rtp: [],
    fmtp: [],
  };
  if (s.legacySctp) {
    m.sctpmap = { sctpmapNumber: s.sctpPort, app: 'webrtc-datachannel', maxMessageSize: 1024 };
  } else {
    m.sctpPort = s.sctpPort;
    m.maxMessageSize = s.maxMessageSize;
  }
  return m;
}

function section(s: LocalSection, transport: LocalTransportParameters): MediaDescription {
  if (s.kind === 'application') return applicationSection(s, transport);
  if (s.kind === null) {
    return {
      type: s.mediaType,
      port: 0,
      protocol: s.protocol,
      payloads: s.payloads,
      mid: s.mid,
      rtp: [],
      fmtp: [],
    };
  }
  return rtpSection(s, transport);
}

/**
 * Writes the server's session description: ICE-lite, one BUNDLE group of every section that is
 * not rejected, the DTLS fingerprint at session level, the host candidates in every bundled
 * section (clients read them from the first one).
 */
export function writeLocalDescription(d: LocalDescription): string {
  const bundled = d.sections.filter((s) => !s.rejected).map((s) => s.mid);
  const fingerprint =
    d.transport.fingerprints.find((f) => f.algorithm === 'sha-256') ?? d.transport.fingerprints[0];
  const description: sdpTransform.SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: d.originSessionId,
      sessionVersion: d.originVersion,
      netType: 'IN',
      ipVer: 4,
      address: '0.0.0.0',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    msidSemantic: { semantic: 'WMS', token: '*' },
    ...(bundled.length > 0 ? { groups: [{ type: 'BUNDLE', mids: bundled.join(' ') }] } : {}),
    ...(d.extmapAllowMixed ? { extmapAllowMixed: 'extmap-allow-mixed' as const } : {}),
    media: d.sections.map((s) => section(s, d.transport)),
  };
  return sdpTransform.write(description);
}
