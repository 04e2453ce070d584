import { samePayloadMeaning } from './codec-match';
import type { ClientDescription, SdpCodec } from './sdp.types';

type CodecIdentity = Pick<
  SdpCodec,
  'payloadType' | 'mimeType' | 'clockRate' | 'channels' | 'parameters'
>;

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const values = map.get(key) ?? new Set<V>();
  values.add(value);
  map.set(key, values);
}

function onlyMeans<K, V>(map: ReadonlyMap<K, ReadonlySet<V>>, key: K, value: V): boolean {
  return [...(map.get(key) ?? [])].every((v) => v === value);
}

/**
 * Payload types and header extension ids used across one session's BUNDLE group. All m-sections
 * share one transport, so a payload type or an extension id must mean the same thing in every
 * section and in both directions (Chrome refuses "a codec collision for payload_type", and fails
 * its next local offer when an extension id means two things). Two sides are kept:
 *
 * - the server's descriptions (client sections echo the client's numbers, consumer sections
 *   carry the router's): the first meaning registered wins, later sections are checked or
 *   adjusted;
 * - the client's descriptions (its offers and answers): the numbers it uses, which the server
 *   cannot change (an answer can only leave a number out). A consumer always writes the router's
 *   numbers, so it may only use those that clash with neither side.
 */
export class BundleRegistry {
  /**
   * @param options.serverNumbersExtensions consumers may carry header extensions the client has
   *   not numbered yet (only safe where the client never offers: no crossing offer can number
   *   them otherwise)
   */
  constructor(private readonly options: { readonly serverNumbersExtensions?: boolean } = {}) {}

  private readonly payloadTypes = new Map<number, CodecIdentity>();
  private readonly extensionUriById = new Map<number, string>();
  private readonly extensionIdByUri = new Map<string, number>();
  private readonly clientPayloadTypes = new Map<number, CodecIdentity[]>();
  private readonly clientExtensionUris = new Map<number, Set<string>>();
  private readonly clientExtensionIds = new Map<string, Set<number>>();

  /** Whether `id` ↔ `uri` agrees with every extension the server's descriptions registered. */
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
    return entry === undefined || samePayloadMeaning(entry, codec);
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
    return samePayloadMeaning(entry, codec) ? { ...codec, parameters: entry.parameters } : codec;
  }

  /**
   * Records the payload types and extension ids of a client description (every RTP section it
   * does not reject). Browsers keep their numbers for the whole session and number new sections
   * after them, so whatever they used once stays taken.
   */
  learnClient(description: ClientDescription): void {
    for (const section of description.sections) {
      if (section.rejected || (section.kind !== 'audio' && section.kind !== 'video')) continue;
      for (const codec of section.codecs) {
        const known = this.clientPayloadTypes.get(codec.payloadType) ?? [];
        if (!known.some((k) => samePayloadMeaning(k, codec))) known.push(codec);
        this.clientPayloadTypes.set(codec.payloadType, known);
      }
      for (const { id, uri } of section.headerExtensions) {
        add(this.clientExtensionUris, id, uri);
        add(this.clientExtensionIds, uri, id);
      }
    }
  }

  /**
   * Whether a consumer may carry the extension under the router's id: the client has already
   * numbered the URI with that very id, and neither side gives the id another URI or the URI
   * another id. A server offer never introduces a number of its own: the client may be making
   * an offer at the same moment (glare) that numbers its new sections freely, and Chrome refuses
   * a remote offer whose id means something else in its pending local offer ("RTP extension ID
   * reassignment"), which leaves its peer connection unusable. With `serverNumbersExtensions`
   * (a client that never offers) the router's ids are allowed unless the client uses them otherwise.
   */
  consumerExtensionAllowed(id: number, uri: string): boolean {
    return (
      this.extensionAllowed(id, uri) &&
      ((this.clientExtensionUris.get(id)?.has(uri) ?? false) ||
        this.options.serverNumbersExtensions === true) &&
      onlyMeans(this.clientExtensionUris, id, uri) &&
      onlyMeans(this.clientExtensionIds, uri, id)
    );
  }

  /** Whether a consumer may use the codec under the router's payload type (see above). */
  consumerPayloadTypeAllowed(codec: CodecIdentity): boolean {
    return (
      this.payloadTypeAllowed(codec) &&
      (this.clientPayloadTypes.get(codec.payloadType) ?? []).every((k) =>
        samePayloadMeaning(k, codec),
      )
    );
  }

  /** A copy, to go back to when a server offer the client never took is given up. */
  clone(): BundleRegistry {
    const copy = new BundleRegistry(this.options);
    this.payloadTypes.forEach((v, k) => copy.payloadTypes.set(k, v));
    this.extensionUriById.forEach((v, k) => copy.extensionUriById.set(k, v));
    this.extensionIdByUri.forEach((v, k) => copy.extensionIdByUri.set(k, v));
    this.clientPayloadTypes.forEach((v, k) => copy.clientPayloadTypes.set(k, [...v]));
    this.clientExtensionUris.forEach((v, k) => copy.clientExtensionUris.set(k, new Set(v)));
    this.clientExtensionIds.forEach((v, k) => copy.clientExtensionIds.set(k, new Set(v)));
    return copy;
  }
}
