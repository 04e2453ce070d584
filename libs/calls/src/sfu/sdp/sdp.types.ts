import type { types as ms } from 'mediasoup';

/** Kind of an RTP m-section. */
export type MediaKind = 'audio' | 'video';

/** Kind of any m-section this SFU understands. */
export type SectionKind = MediaKind | 'application';

/** SDP media direction (`a=sendrecv` …), always from the point of view of the description's author. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** DTLS `a=setup` value. */
export type DtlsSetup = 'actpass' | 'active' | 'passive';

/** A codec as one m-section lists it (payload type, rtpmap, fmtp, rtcp-fb). */
export interface SdpCodec {
  readonly payloadType: number;
  /** `kind/name`, e.g. `audio/opus`. */
  readonly mimeType: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly parameters: Readonly<Record<string, string | number>>;
  readonly rtcpFeedback: readonly ms.RtcpFeedback[];
}

/** An `a=extmap` line. */
export interface SdpHeaderExtension {
  readonly id: number;
  readonly uri: string;
}

/** One stream a client sends in an m-section: an SSRC (with its RTX SSRC) or a simulcast rid. */
export interface SdpSendEncoding {
  readonly ssrc?: number;
  readonly rtxSsrc?: number;
  readonly rid?: string;
}

/** One m-section of a client's description. */
export interface ClientSection {
  readonly index: number;
  readonly mid: string;
  /** `null` for a kind this SFU does not handle (it is rejected with port 0). */
  readonly kind: SectionKind | null;
  /** Raw `m=` media type, for rejected sections of unknown kind. */
  readonly mediaType: string;
  readonly protocol: string;
  /** Port 0: the client rejected or stopped the section. */
  readonly rejected: boolean;
  readonly direction: Direction;
  readonly codecs: readonly SdpCodec[];
  readonly headerExtensions: readonly SdpHeaderExtension[];
  readonly encodings: readonly SdpSendEncoding[];
  /** Whether the streams are simulcast rids (`a=simulcast:send`). */
  readonly simulcast: boolean;
  readonly cname?: string;
  readonly msid?: { readonly streamId: string; readonly trackId: string };
  readonly rtcpReducedSize: boolean;
  /** SCTP port of an application section (`a=sctp-port`, or the legacy `a=sctpmap`). */
  readonly sctpPort?: number;
  readonly maxMessageSize?: number;
  /** The section used the legacy `DTLS/SCTP` + `a=sctpmap` format. */
  readonly legacySctp: boolean;
}

/** A client's session description, parsed and checked. */
export interface ClientDescription {
  readonly type: 'offer' | 'answer';
  /** `o=` session id and version (a client increments the version for every description it makes). */
  readonly originSessionId: string;
  readonly originVersion: number;
  readonly ice: { readonly usernameFragment: string; readonly password: string };
  readonly dtls: {
    readonly fingerprints: readonly ms.DtlsFingerprint[];
    readonly setup: DtlsSetup;
  };
  /** Mids of the BUNDLE group (empty when the description has none). */
  readonly bundleMids: readonly string[];
  readonly extmapAllowMixed: boolean;
  readonly sections: readonly ClientSection[];
}
