import type { MediaTrackPreference, MediaVideoLayer } from '../../media/media-plane.interface';

/** A layer covers a requested size when both its sides are at least this share of it. */
const COVER_TOLERANCE = 0.9;
/** LiveKit's default layer heights (below the full size) when the sender did not say. */
const DEFAULT_LADDER_HEIGHTS = [180, 360];

/** The spatial and temporal layer counts of a scalability mode (`L3T3`, `L1T3_KEY`, …). */
export function scalabilityLayers(mode: string | undefined): { spatial: number; temporal: number } {
  const m = /^L(\d+)T(\d+)/.exec(mode ?? '');
  return m ? { spatial: Number(m[1]), temporal: Number(m[2]) } : { spatial: 1, temporal: 1 };
}

/**
 * The sizes of `count` spatial layers, lowest first: the sender's when it described as many, else
 * LiveKit's default ladder (16:9 layers 180 and 360 high, the top one unbounded).
 */
function layerSizes(count: number, described: readonly MediaVideoLayer[] | undefined) {
  if (described && described.length === count) {
    return [...described].sort((a, b) => a.width * a.height - b.width * b.height);
  }
  return Array.from({ length: count }, (_, i) => {
    const height = i === count - 1 ? Infinity : (DEFAULT_LADDER_HEIGHTS[i] ?? Infinity);
    return { width: (height * 16) / 9, height };
  });
}

/**
 * The highest spatial layer (0 = lowest) of a track with `count` layers that `preference` wants:
 * with a size, the smallest layer covering it (both sides at least 90% of it; the top layer when
 * none does); else by quality (`low` the lowest, `medium` the second, `high` or nothing the top).
 */
export function preferredSpatialLayer(
  count: number,
  described: readonly MediaVideoLayer[] | undefined,
  preference: MediaTrackPreference,
): number {
  const top = Math.max(0, count - 1);
  const width = preference.width ?? 0;
  const height = preference.height ?? 0;
  if (width > 0 || height > 0) {
    const sizes = layerSizes(count, described);
    const covering = sizes.findIndex(
      (s) => s.width >= width * COVER_TOLERANCE && s.height >= height * COVER_TOLERANCE,
    );
    return covering === -1 ? top : covering;
  }
  switch (preference.quality) {
    case 'low':
      return 0;
    case 'medium':
      return Math.min(1, top);
    default:
      return top;
  }
}
