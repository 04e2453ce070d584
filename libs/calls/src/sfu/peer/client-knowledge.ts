import type { ClientMediaKnowledge } from '../sdp/consume-capabilities';
import type { ClientDescription, MediaKind, SdpCodec } from '../sdp/sdp.types';

/**
 * What one client has shown it supports, from the codecs and header extensions its offers list
 * (browsers list everything they can receive in every section). Used to pick what it can consume.
 */
export class ClientKnowledge implements ClientMediaKnowledge {
  readonly codecs = new Map<MediaKind, SdpCodec[]>();
  readonly extensionUris = new Map<MediaKind, Set<string>>();

  /** Adds the codecs and extensions of an offer's audio and video sections. */
  learn(offer: ClientDescription): void {
    for (const section of offer.sections) {
      if (section.rejected || (section.kind !== 'audio' && section.kind !== 'video')) continue;
      const codecs = this.codecs.get(section.kind) ?? [];
      for (const codec of section.codecs) {
        if (!codecs.some((c) => c.payloadType === codec.payloadType)) codecs.push(codec);
      }
      this.codecs.set(section.kind, codecs);
      const uris = this.extensionUris.get(section.kind) ?? new Set<string>();
      section.headerExtensions.forEach((e) => uris.add(e.uri));
      this.extensionUris.set(section.kind, uris);
    }
  }
}
