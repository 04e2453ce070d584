import type { types as ms } from 'mediasoup';
import * as sdpTransform from 'sdp-transform';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { checkSdpSize } from '../../media/sdp-size';
import type {
  ClientDescription,
  ClientSection,
  Direction,
  SdpCodec,
  SdpSendEncoding,
  SectionKind,
} from './sdp.types';

type MediaDescription = sdpTransform.MediaDescription;

const FINGERPRINT_ALGORITHMS: ReadonlySet<string> = new Set([
  'sha-1',
  'sha-224',
  'sha-256',
  'sha-384',
  'sha-512',
]);
const RTP_PROTOCOLS: ReadonlySet<string> = new Set(['UDP/TLS/RTP/SAVPF', 'RTP/SAVPF']);
const SCTP_PROTOCOLS: ReadonlySet<string> = new Set([
  'UDP/DTLS/SCTP',
  'DTLS/SCTP',
  'TCP/DTLS/SCTP',
]);
/** RFC 8839: ice-ufrag 4–256 and ice-pwd 22–256 ice-chars. */
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^[A-Za-z0-9+/]{22,256}$/;
const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15,63}$/;
const MAX_SECTIONS = 256;

/**
 * Parses and checks a client's session description (unified plan, BUNDLE, rtcp-mux, ICE and
 * DTLS attributes present). Nothing here depends on the session's state.
 * `maxBytes` is the `maxSdpBytes` option: the transport's decoder enforces it first; this is a
 * defensive bound for callers of the media plane that skip a decoder (same rule, same error).
 * @throws MessageTooLargeError when `sdp` is larger than `maxBytes`
 * @throws InvalidSdpError naming the first problem found
 */
export function parseClientDescription(
  type: 'offer' | 'answer',
  sdp: string,
  maxBytes: number,
): ClientDescription {
  checkSdpSize(Buffer.byteLength(sdp, 'utf8'), maxBytes);
  if (!/^\s*v=0\r?\n/.test(sdp) || !/\r?\nm=/.test(sdp)) {
    throw new InvalidSdpError('not a session description (expected v=0 and at least one m= line)');
  }
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (err) {
    throw new InvalidSdpError(`unparsable: ${(err as Error).message}`);
  }
  const origin = /^o=\S+ (\S+) (\d+) /m.exec(sdp);
  if (!origin) throw new InvalidSdpError('missing or malformed o= line');
  const media = parsed.media ?? [];
  if (media.length === 0) throw new InvalidSdpError('no m= sections');
  if (media.length > MAX_SECTIONS)
    throw new InvalidSdpError(`more than ${MAX_SECTIONS} m= sections`);

  const sections = media.map((m, index) => parseSection(m, index));
  const mids = new Set<string>();
  for (const s of sections) {
    if (mids.has(s.mid)) throw new InvalidSdpError(`duplicate a=mid:${s.mid}`);
    mids.add(s.mid);
  }
  const active = sections.filter((s) => !s.rejected && s.kind !== null);
  const bundleMids = bundleGroup(parsed);
  if (active.length > 1 && !active.every((s) => bundleMids.includes(s.mid))) {
    throw new InvalidSdpError('every m= section must be in one a=group:BUNDLE (max-bundle)');
  }
  // With BUNDLE the transport attributes of the first bundled (tagged) section count.
  const tagged = media[bundleMids.length > 0 ? media.findIndex((m) => m.mid === bundleMids[0]) : 0];
  const first = tagged ?? media[active[0]?.index ?? 0];
  return {
    type,
    originSessionId: origin[1],
    originVersion: Number(origin[2]),
    ice: iceParameters(first, parsed),
    dtls: dtlsParameters(first, parsed, type),
    bundleMids,
    extmapAllowMixed:
      parsed.extmapAllowMixed !== undefined || media.some((m) => m.extmapAllowMixed),
    sections,
  };
}

function bundleGroup(parsed: sdpTransform.SessionDescription): string[] {
  const group = (parsed.groups ?? []).find((g) => g.type.toUpperCase() === 'BUNDLE');
  return group ? String(group.mids).split(/\s+/).filter(Boolean) : [];
}

function iceParameters(
  m: MediaDescription,
  session: sdpTransform.SessionDescription,
): ClientDescription['ice'] {
  const ufrag = m.iceUfrag ?? session.iceUfrag;
  const pwd = m.icePwd ?? session.icePwd;
  if (!ufrag || !pwd) throw new InvalidSdpError('missing a=ice-ufrag / a=ice-pwd');
  if (!ICE_UFRAG.test(String(ufrag)) || !ICE_PWD.test(String(pwd))) {
    throw new InvalidSdpError('malformed a=ice-ufrag / a=ice-pwd');
  }
  return { usernameFragment: String(ufrag), password: String(pwd) };
}

function dtlsParameters(
  m: MediaDescription,
  session: sdpTransform.SessionDescription,
  type: 'offer' | 'answer',
): ClientDescription['dtls'] {
  const fingerprint = m.fingerprint ?? session.fingerprint;
  if (!fingerprint) throw new InvalidSdpError('missing a=fingerprint');
  const algorithm = String(fingerprint.type).toLowerCase();
  if (!FINGERPRINT_ALGORITHMS.has(algorithm) || !FINGERPRINT_VALUE.test(fingerprint.hash)) {
    throw new InvalidSdpError(`unsupported or malformed a=fingerprint:${fingerprint.type}`);
  }
  // sdp-transform turns a numeric value (a=setup:7) into a number.
  const rawSetup = String(
    m.setup ?? session.setup ?? (type === 'offer' ? 'actpass' : 'active'),
  ).toLowerCase();
  if (rawSetup !== 'actpass' && rawSetup !== 'active' && rawSetup !== 'passive') {
    throw new InvalidSdpError(`unsupported a=setup:${rawSetup}`);
  }
  if (type === 'answer' && rawSetup === 'actpass') {
    throw new InvalidSdpError('an answer must not use a=setup:actpass');
  }
  return {
    fingerprints: [
      { algorithm: algorithm as ms.FingerprintAlgorithm, value: fingerprint.hash.toUpperCase() },
    ],
    setup: rawSetup,
  };
}

function parseSection(m: MediaDescription, index: number): ClientSection {
  if (m.mid === undefined || String(m.mid) === '') {
    throw new InvalidSdpError(`m= section ${index} has no a=mid (unified plan required)`);
  }
  const mid = String(m.mid);
  const kind = sectionKind(m);
  const rejected = m.port === 0 || kind === null;
  const direction: Direction = m.direction ?? 'sendrecv';
  const base = {
    index,
    mid,
    kind,
    mediaType: m.type,
    protocol: m.protocol,
    rejected,
    direction,
    rtcpReducedSize: m.rtcpRsize !== undefined,
    legacySctp: false,
  };
  if (kind === 'application') {
    const legacy = m.sctpmap !== undefined && m.sctpPort === undefined;
    const sctpPort = m.sctpPort ?? m.sctpmap?.sctpmapNumber;
    if (!rejected && sctpPort === undefined) {
      throw new InvalidSdpError(`m=application section ${mid} has no a=sctp-port`);
    }
    return {
      ...base,
      codecs: [],
      headerExtensions: [],
      encodings: [],
      simulcast: false,
      sctpPort,
      maxMessageSize: m.maxMessageSize ?? m.sctpmap?.maxMessageSize,
      legacySctp: legacy,
    };
  }
  if (kind !== null && !rejected && m.rtcpMux === undefined) {
    throw new InvalidSdpError(`m=${kind} section ${mid} lacks a=rtcp-mux`);
  }
  const codecs = kind === null ? [] : sectionCodecs(m, kind);
  const { encodings, simulcast } = sendEncodings(m);
  const cname = (m.ssrcs ?? []).find((s) => s.attribute === 'cname')?.value;
  return {
    ...base,
    codecs,
    headerExtensions: (m.ext ?? [])
      .filter((e) => Number.isInteger(e.value) && e.value >= 1 && e.value <= 255)
      .map((e) => ({ id: e.value, uri: e.uri })),
    encodings,
    simulcast,
    cname,
    msid: sectionMsid(m),
  };
}

function sectionKind(m: MediaDescription): SectionKind | null {
  if ((m.type === 'audio' || m.type === 'video') && RTP_PROTOCOLS.has(m.protocol)) return m.type;
  if (m.type === 'application' && SCTP_PROTOCOLS.has(m.protocol)) return 'application';
  return null;
}

function sectionCodecs(m: MediaDescription, kind: 'audio' | 'video'): SdpCodec[] {
  const order = sdpTransform.parsePayloads(String(m.payloads ?? ''));
  const codecs: SdpCodec[] = [];
  for (const pt of order) {
    const rtp = (m.rtp ?? []).find((r) => r.payload === pt);
    if (!rtp || !Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const fmtp = (m.fmtp ?? []).filter((f) => f.payload === pt).map((f) => f.config);
    const parameters: Record<string, string | number> = {};
    for (const config of fmtp) {
      for (const [key, value] of Object.entries(sdpTransform.parseParams(config))) {
        if (value !== undefined) parameters[key] = value;
      }
    }
    const rtcpFeedback = (m.rtcpFb ?? [])
      .filter((fb) => fb.payload === pt || fb.payload === '*' || Number(fb.payload) === pt)
      .map((fb) => (fb.subtype ? { type: fb.type, parameter: fb.subtype } : { type: fb.type }));
    codecs.push({
      payloadType: pt,
      mimeType: `${kind}/${rtp.codec}`,
      clockRate: rtp.rate ?? 90000,
      channels: kind === 'audio' ? (rtp.encoding ?? 1) : undefined,
      parameters,
      rtcpFeedback,
    });
  }
  return codecs;
}

function sendEncodings(m: MediaDescription): { encodings: SdpSendEncoding[]; simulcast: boolean } {
  const sendRids = (m.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id));
  const sim = m.simulcast;
  const simulcastList =
    sim?.dir1 === 'send' ? sim.list1 : sim?.dir2 === 'send' ? sim.list2 : undefined;
  if (simulcastList && sendRids.length > 0) {
    // a=simulcast:send l;h — each ';' is one stream (',' lists alternatives); '~' marks it paused.
    const rids = simulcastList
      .split(';')
      .map((alt) => alt.split(',')[0].replace(/^~/, ''))
      .filter((rid) => sendRids.includes(rid));
    return { encodings: rids.map((rid) => ({ rid })), simulcast: true };
  }
  const ssrcs = [...new Set((m.ssrcs ?? []).map((s) => Number(s.id)))];
  const fid = new Map<number, number>();
  let simGroup: number[] | undefined;
  for (const group of m.ssrcGroups ?? []) {
    const ids = String(group.ssrcs).split(/\s+/).map(Number);
    if (group.semantics === 'FID' && ids.length === 2) fid.set(ids[0], ids[1]);
    if (group.semantics === 'SIM') simGroup = ids;
  }
  const secondary = new Set([...fid.values()]);
  for (const group of m.ssrcGroups ?? []) {
    if (group.semantics.startsWith('FEC')) {
      String(group.ssrcs)
        .split(/\s+/)
        .slice(1)
        .forEach((s) => secondary.add(Number(s)));
    }
  }
  const primaries = simGroup ?? ssrcs.filter((s) => !secondary.has(s));
  return {
    encodings: primaries.map((ssrc) => ({ ssrc, rtxSsrc: fid.get(ssrc) })),
    simulcast: false,
  };
}

function sectionMsid(m: MediaDescription): ClientSection['msid'] {
  const msid = m.msid?.[0];
  if (msid?.id && msid.appdata) return { streamId: msid.id, trackId: msid.appdata };
  const value = (m.ssrcs ?? []).find((s) => s.attribute === 'msid')?.value;
  const [streamId, trackId] = (value ?? '').split(' ');
  return streamId && trackId ? { streamId, trackId } : undefined;
}
