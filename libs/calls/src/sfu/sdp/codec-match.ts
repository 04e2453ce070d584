import { h264Profile } from './h264-profile';

/** The fields of a codec that decide whether two descriptions mean the same codec. */
export interface CodecLike {
  readonly mimeType: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** Codecs that only ride along with a media codec (never chosen as the media codec). */
const AUXILIARY = new Set(['rtx', 'red', 'ulpfec', 'flexfec-03', 'cn', 'telephone-event']);

/** Whether the codec is RTX (`apt=` retransmission). */
export function isRtx(codec: CodecLike): boolean {
  return codec.mimeType.toLowerCase().endsWith('/rtx');
}

/** Whether the codec carries media itself (not RTX, RED, FEC, comfort noise or DTMF). */
export function isMediaCodec(codec: CodecLike): boolean {
  return !AUXILIARY.has(codec.mimeType.split('/')[1]?.toLowerCase() ?? '');
}

function param(codec: CodecLike, name: string): unknown {
  return codec.parameters?.[name];
}

/**
 * Whether two codecs are the same codec in mediasoup's strict sense: MIME type, clock rate and
 * channels, plus the H.264 packetization mode and profile, and the VP9 profile.
 */
export function sameCodec(a: CodecLike, b: CodecLike): boolean {
  const mime = a.mimeType.toLowerCase();
  if (mime !== b.mimeType.toLowerCase() || a.clockRate !== b.clockRate) return false;
  if (mime.startsWith('audio/') && (a.channels ?? 1) !== (b.channels ?? 1)) return false;
  switch (mime) {
    case 'video/h264': {
      const aMode = Number(param(a, 'packetization-mode') ?? 0);
      const bMode = Number(param(b, 'packetization-mode') ?? 0);
      if (aMode !== bMode) return false;
      const aProfile = h264Profile(param(a, 'profile-level-id') as string | undefined);
      return aProfile !== null && aProfile === h264Profile(param(b, 'profile-level-id') as string);
    }
    case 'video/vp9':
      return Number(param(a, 'profile-id') ?? 0) === Number(param(b, 'profile-id') ?? 0);
    default:
      return true;
  }
}

/**
 * Whether two payload type entries mean the same thing (what a payload type must keep across a
 * BUNDLE group): the same codec and, for RTX, the same associated payload type.
 */
export function samePayloadMeaning(a: CodecLike, b: CodecLike): boolean {
  if (!sameCodec(a, b)) return false;
  return !isRtx(a) || String(a.parameters?.apt) === String(b.parameters?.apt);
}
