import type { types as ms } from 'mediasoup';
import type { MediaTrackPreference } from '../../media/media-plane.interface';
import { preferredSpatialLayer, scalabilityLayers } from './layer-choice';
import type { SfuProducerAppData } from './peer-producers';

/**
 * A screen share's consumers' priority in mediasoup's sharing of a receiver's bandwidth estimate
 * (cameras keep the default 1): they get their layers first, and each round of the sharing gives
 * them this many layer steps to a camera's one.
 */
export const SCREEN_PRIORITY = 16;
/** Preferences kept per session (the oldest is forgotten beyond it). */
const MAX_PREFERENCES = 512;

/** What a consumer's settings are made from: its producer's labels, as they are now. */
export type ConsumerSource = Pick<SfuProducerAppData, 'type' | 'layers'>;

/** How a consumer is to forward: whether at all, which layers, with what priority. */
export interface ConsumerSettings {
  readonly disabled: boolean;
  /** Simulcast and SVC consumers only. */
  readonly layers?: ms.ConsumerLayers;
  readonly priority: number;
}

/**
 * What one receiving session wants of the video it receives ({@link MediaTrackPreference} per
 * producer, a default for cameras), turned into mediasoup consumer settings. mediasoup's
 * bandwidth estimate then forwards the preferred layers or lower ones.
 */
export class ConsumerPreferences {
  private readonly byProducer = new Map<string, MediaTrackPreference>();

  constructor(private readonly cameraDefault: MediaTrackPreference = {}) {}

  /** Sets the session's preference for one producer (it replaces the previous one). */
  set(producerId: string, preference: MediaTrackPreference): void {
    this.byProducer.delete(producerId);
    this.byProducer.set(producerId, preference);
    if (this.byProducer.size > MAX_PREFERENCES) {
      const oldest = this.byProducer.keys().next().value;
      if (oldest !== undefined) this.byProducer.delete(oldest);
    }
  }

  /** Forgets a producer's preference (its track ended). */
  forget(producerId: string): void {
    this.byProducer.delete(producerId);
  }

  /** The settings of a consumer of `producerId`, whose producer is labelled `source`. */
  settings(consumer: ms.Consumer, source: ConsumerSource | undefined): ConsumerSettings {
    const type = source?.type ?? (consumer.kind === 'audio' ? 'voice' : 'video');
    if (consumer.kind === 'audio') return { disabled: false, priority: 1 };
    const preference =
      this.byProducer.get(consumer.producerId) ?? (type === 'video' ? this.cameraDefault : {});
    const priority = type === 'screen' ? SCREEN_PRIORITY : 1;
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      return { disabled: preference.disabled === true, priority };
    }
    const { spatial, temporal } = scalabilityLayers(
      consumer.rtpParameters.encodings?.[0]?.scalabilityMode,
    );
    return {
      disabled: preference.disabled === true,
      layers: {
        spatialLayer: preferredSpatialLayer(spatial, source?.layers, preference),
        temporalLayer: temporal - 1,
      },
      priority,
    };
  }
}
