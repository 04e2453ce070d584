import type { types as ms } from 'mediasoup';
import type { Direction, DtlsSetup, SdpCodec, SdpHeaderExtension } from './sdp.types';

/** The server transport's side of a description: ICE-lite credentials, candidates, DTLS. */
export interface LocalTransportParameters {
  readonly ice: { readonly usernameFragment: string; readonly password: string };
  readonly candidates: readonly ms.IceCandidate[];
  readonly fingerprints: readonly ms.DtlsFingerprint[];
  readonly setup: DtlsSetup;
}

/** The stream the server sends in an m-section (one consumer). */
export interface LocalSendStream {
  readonly ssrc: number;
  readonly rtxSsrc?: number;
  readonly cname: string;
  readonly streamId: string;
  readonly trackId: string;
}

/** An audio or video m-section as the server describes it. */
export interface LocalRtpSection {
  readonly kind: 'audio' | 'video';
  readonly mid: string;
  readonly protocol: string;
  /** Port 0: rejected or stopped. */
  readonly rejected: boolean;
  readonly direction: Direction;
  readonly codecs: readonly SdpCodec[];
  readonly headerExtensions: readonly SdpHeaderExtension[];
  readonly send?: LocalSendStream;
  /** Simulcast rids the server receives (`a=rid:<id> recv`, `a=simulcast:recv`). */
  readonly recvRids?: readonly string[];
  readonly rtcpReducedSize: boolean;
}

/** The data channel m-section. */
export interface LocalApplicationSection {
  readonly kind: 'application';
  readonly mid: string;
  readonly protocol: string;
  readonly rejected: boolean;
  readonly sctpPort: number;
  readonly maxMessageSize: number;
  readonly legacySctp: boolean;
}

/** A section of a kind the server does not handle, rejected with port 0. */
export interface LocalRejectedSection {
  readonly kind: null;
  readonly mid: string;
  readonly mediaType: string;
  readonly protocol: string;
  readonly rejected: true;
  readonly payloads: string;
}

/** One m-section of the server's description. */
export type LocalSection = LocalRtpSection | LocalApplicationSection | LocalRejectedSection;

/** Everything the server's offer or answer is written from. */
export interface LocalDescription {
  readonly originSessionId: string;
  readonly originVersion: number;
  readonly transport: LocalTransportParameters;
  readonly extmapAllowMixed: boolean;
  readonly sections: readonly LocalSection[];
}
