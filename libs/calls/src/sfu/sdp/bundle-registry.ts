import { isRtx, sameCodec } from './codec-match';
import type { SdpCodec } from './sdp.types';

type CodecIdentity = Pick<
  SdpCodec,
  'payloadType' | 'mimeType' | 'clockRate' | 'channels' | 'parameters'
>;

/** Same codec, and for RTX the same associated payload type. */
function sameMeaning(a: CodecIdentity, b: CodecIdentity): boolean {
  if (!sameCodec(a, b)) return false;
  return !isRtx(a) || String(a.parameters.apt) === String(b.parameters.apt);
}

/**
 * Payload types and header extension ids used across one session's BUNDLE group. All m-sections
 * share one transport, so a payload type or an extension id must mean the same thing in every
 * section (Chrome refuses "a codec collision for payload_type" otherwise). Client sections bring
 * the client's numbers, consumer sections mediasoup's router numbers; this registry keeps both in
 * agreement: the first meaning registered wins, and later sections are checked or adjusted.
 */
export class BundleRegistry {
  private readonly payloadTypes = new Map<number, CodecIdentity>();
  private readonly extensionUriById = new Map<number, string>();
  private readonly extensionIdByUri = new Map<string, number>();

  /** Whether `id` ↔ `uri` agrees with every extension registered so far. */
  extensionAllowed(id: number, uri: string): boolean {
    const byId = this.extensionUriById.get(id);
    const byUri = this.extensionIdByUri.get(uri);
    return (byId === undefined || byId === uri) && (byUri === undefined || byUri === id);
  }

  /** Records that `id` means `uri` in this session. */
  registerExtension(id: number, uri: string): void {
    if (!this.extensionAllowed(id, uri)) return;
    this.extensionUriById.set(id, uri);
    this.extensionIdByUri.set(uri, id);
  }

  /** Whether the codec's payload type is free or already means this codec. */
  payloadTypeAllowed(codec: CodecIdentity): boolean {
    const entry = this.payloadTypes.get(codec.payloadType);
    return entry === undefined || sameMeaning(entry, codec);
  }

  /**
   * Registers the codec's payload type (first meaning wins) and returns the codec with the
   * format parameters first written for that payload type, so that every section repeats the
   * same `a=fmtp` for it.
   */
  register<T extends SdpCodec>(codec: T): T {
    const entry = this.payloadTypes.get(codec.payloadType);
    if (entry === undefined) {
      this.payloadTypes.set(codec.payloadType, codec);
      return codec;
    }
    return sameMeaning(entry, codec) ? { ...codec, parameters: entry.parameters } : codec;
  }
}
