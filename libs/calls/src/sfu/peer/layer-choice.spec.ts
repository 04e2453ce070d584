import { preferredSpatialLayer, scalabilityLayers } from './layer-choice';

/** LiveKit's three layers of a 960×540 camera. */
const LADDER = [
  { width: 320, height: 180 },
  { width: 640, height: 360 },
  { width: 960, height: 540 },
];

describe('layer choice', () => {
  it('reads the layer counts of a scalability mode (one of each without one)', () => {
    expect(scalabilityLayers('L3T3')).toEqual({ spatial: 3, temporal: 3 });
    expect(scalabilityLayers('L2T2_KEY')).toEqual({ spatial: 2, temporal: 2 });
    expect(scalabilityLayers(undefined)).toEqual({ spatial: 1, temporal: 1 });
    expect(scalabilityLayers('S3T3x')).toEqual({ spatial: 1, temporal: 1 });
  });

  it('takes the smallest layer covering the size shown (90% of each side is enough)', () => {
    expect(preferredSpatialLayer(3, LADDER, { width: 160, height: 90 })).toBe(0);
    expect(preferredSpatialLayer(3, LADDER, { width: 320, height: 180 })).toBe(0);
    expect(preferredSpatialLayer(3, LADDER, { width: 350, height: 197 })).toBe(0);
    expect(preferredSpatialLayer(3, LADDER, { width: 360, height: 200 })).toBe(1);
    expect(preferredSpatialLayer(3, LADDER, { width: 640, height: 360 })).toBe(1);
    // A square tile that crops a 16:9 picture needs its height covered.
    expect(preferredSpatialLayer(3, LADDER, { width: 400, height: 400 })).toBe(1);
    expect(preferredSpatialLayer(3, LADDER, { width: 420, height: 420 })).toBe(2);
    expect(preferredSpatialLayer(3, LADDER, { width: 1920, height: 1080 })).toBe(2);
    // Layers given in any order are sorted by size.
    expect(preferredSpatialLayer(3, [...LADDER].reverse(), { width: 300, height: 170 })).toBe(0);
  });

  it("uses LiveKit's default ladder when the sender described no (or other) layers", () => {
    // 180 and 360 high, the top one unbounded.
    expect(preferredSpatialLayer(3, undefined, { width: 320, height: 180 })).toBe(0);
    expect(preferredSpatialLayer(3, undefined, { width: 640, height: 360 })).toBe(1);
    expect(preferredSpatialLayer(3, undefined, { width: 1280, height: 720 })).toBe(2);
    expect(preferredSpatialLayer(2, LADDER, { width: 640, height: 360 })).toBe(1);
    expect(preferredSpatialLayer(2, undefined, { width: 100, height: 100 })).toBe(0);
  });

  it('without a size: by quality, the top layer by default', () => {
    expect(preferredSpatialLayer(3, LADDER, {})).toBe(2);
    expect(preferredSpatialLayer(3, LADDER, { quality: 'high' })).toBe(2);
    expect(preferredSpatialLayer(3, LADDER, { quality: 'medium' })).toBe(1);
    expect(preferredSpatialLayer(3, LADDER, { quality: 'low' })).toBe(0);
    expect(preferredSpatialLayer(2, LADDER, { quality: 'medium' })).toBe(1);
    expect(preferredSpatialLayer(1, LADDER, { quality: 'medium' })).toBe(0);
    expect(preferredSpatialLayer(3, LADDER, { width: 0, height: 0, quality: 'low' })).toBe(0);
  });
});
