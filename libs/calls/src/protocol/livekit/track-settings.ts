import {
  type AddTrackRequest,
  type UpdateTrackSettings,
  type VideoLayer,
  VideoQuality,
} from '@livekit/protocol';
import type {
  MediaTrackPreference,
  MediaVideoLayer,
  MediaVideoQuality,
} from '../../media/media-plane.interface';
import type { TrackLayerView } from './participant-view';

const QUALITIES: Partial<Record<VideoQuality, MediaVideoQuality>> = {
  [VideoQuality.LOW]: 'low',
  [VideoQuality.MEDIUM]: 'medium',
  [VideoQuality.HIGH]: 'high',
};

/** The largest layer side taken from a client (pixels); larger ones are dropped. */
const MAX_SIDE = 16384;

/**
 * The simulcast layers an `add_track` announces (`layers`, else its first simulcast codec's),
 * lowest first; none for a track with one layer or without sizes.
 */
export function announcedLayers(request: AddTrackRequest): TrackLayerView[] {
  const layers: VideoLayer[] =
    request.layers.length > 0 ? request.layers : (request.simulcastCodecs[0]?.layers ?? []);
  const usable = layers
    .filter((l) => l.width > 0 && l.height > 0 && l.width <= MAX_SIDE && l.height <= MAX_SIDE)
    .map((l) => ({ quality: l.quality, width: l.width, height: l.height, bitrate: l.bitrate }))
    .sort((a, b) => a.width * a.height - b.width * b.height);
  return usable.length > 1 ? usable.slice(0, 4) : [];
}

/** The layer sizes the media port matches receivers' sizes against. */
export function mediaLayers(layers: readonly TrackLayerView[]): MediaVideoLayer[] {
  return layers.map(({ width, height }) => ({ width, height }));
}

/**
 * What a subscriber's `track_setting` asks of a track: nothing (`disabled`, or quality OFF), or
 * up to the size it shows the video at (adaptive stream), else up to a quality.
 */
export function preferenceOf(settings: UpdateTrackSettings): MediaTrackPreference {
  if (settings.disabled || settings.quality === VideoQuality.OFF) return { disabled: true };
  const width = Math.min(Math.max(0, settings.width), MAX_SIDE);
  const height = Math.min(Math.max(0, settings.height), MAX_SIDE);
  if (width > 0 || height > 0) return { width, height };
  const quality = QUALITIES[settings.quality];
  return quality ? { quality } : {};
}
