import type { types as ms } from 'mediasoup';
import { ConsumerPreferences, SCREEN_PRIORITY } from './consumer-preferences';

/** The parts of a mediasoup consumer the preferences read. */
function consumer(
  producerId: string,
  type: ms.ConsumerType,
  kind: 'audio' | 'video' = 'video',
  scalabilityMode = 'L3T3',
): ms.Consumer {
  return {
    producerId,
    type,
    kind,
    rtpParameters: { codecs: [], encodings: [{ scalabilityMode }] },
  } as unknown as ms.Consumer;
}

const LAYERS = [
  { width: 320, height: 180 },
  { width: 640, height: 360 },
  { width: 960, height: 540 },
];

describe('ConsumerPreferences', () => {
  it('a camera without a preference: the default (top layers unless one is given)', () => {
    const none = new ConsumerPreferences();
    expect(none.settings(consumer('p1', 'simulcast'), { type: 'video', layers: LAYERS })).toEqual({
      disabled: false,
      layers: { spatialLayer: 2, temporalLayer: 2 },
      priority: 1,
    });
    const grid = new ConsumerPreferences({ width: 640, height: 360 });
    expect(grid.settings(consumer('p1', 'simulcast'), { type: 'video', layers: LAYERS })).toEqual({
      disabled: false,
      layers: { spatialLayer: 1, temporalLayer: 2 },
      priority: 1,
    });
  });

  it("a screen share: the session's camera default does not apply, and it comes first", () => {
    const p = new ConsumerPreferences({ quality: 'low' });
    expect(p.settings(consumer('s', 'simulcast', 'video', 'L2T3'), { type: 'screen' })).toEqual({
      disabled: false,
      layers: { spatialLayer: 1, temporalLayer: 2 },
      priority: SCREEN_PRIORITY,
    });
  });

  it('a preference for one producer wins over the default until forgotten; disabled pauses', () => {
    const p = new ConsumerPreferences({ width: 640, height: 360 });
    const c = consumer('p1', 'simulcast');
    p.set('p1', { width: 200, height: 100 });
    expect(p.settings(c, { type: 'video', layers: LAYERS }).layers?.spatialLayer).toBe(0);
    p.set('p1', { disabled: true });
    expect(p.settings(c, { type: 'video', layers: LAYERS }).disabled).toBe(true);
    expect(p.settings(consumer('p2', 'simulcast'), { type: 'video' }).disabled).toBe(false);
    p.forget('p1');
    expect(p.settings(c, { type: 'video', layers: LAYERS })).toMatchObject({
      disabled: false,
      layers: { spatialLayer: 1 },
    });
  });

  it('a one-layer video may be disabled but has no layers; audio is never touched', () => {
    const p = new ConsumerPreferences();
    p.set('v', { disabled: true, width: 10, height: 10 });
    p.set('a', { disabled: true });
    expect(p.settings(consumer('v', 'simple'), { type: 'video' })).toEqual({
      disabled: true,
      priority: 1,
    });
    expect(p.settings(consumer('a', 'simple', 'audio'), { type: 'voice' })).toEqual({
      disabled: false,
      priority: 1,
    });
  });
});
