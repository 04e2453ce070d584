import {
  AddTrackRequest,
  SimulcastCodec,
  TrackSource,
  TrackType,
  UpdateTrackSettings,
  VideoLayer,
  VideoQuality,
} from '@livekit/protocol';
import { announcedLayers, mediaLayers, preferenceOf } from './track-settings';

const layer = (quality: VideoQuality, width: number, height: number) =>
  new VideoLayer({ quality, width, height, bitrate: width * 1000 });

describe('LiveKit track settings and layers', () => {
  it("takes a camera's announced layers, smallest first (or its first simulcast codec's)", () => {
    const request = new AddTrackRequest({
      cid: 'cam',
      type: TrackType.VIDEO,
      source: TrackSource.CAMERA,
      layers: [
        layer(VideoQuality.HIGH, 960, 540),
        layer(VideoQuality.LOW, 320, 180),
        layer(VideoQuality.MEDIUM, 640, 360),
      ],
    });
    const layers = announcedLayers(request);
    expect(layers.map((l) => [l.quality, l.width, l.height])).toEqual([
      [VideoQuality.LOW, 320, 180],
      [VideoQuality.MEDIUM, 640, 360],
      [VideoQuality.HIGH, 960, 540],
    ]);
    expect(mediaLayers(layers)).toEqual([
      { width: 320, height: 180 },
      { width: 640, height: 360 },
      { width: 960, height: 540 },
    ]);
    const codecOnly = new AddTrackRequest({
      simulcastCodecs: [
        new SimulcastCodec({
          codec: 'vp8',
          layers: [layer(VideoQuality.LOW, 320, 180), layer(VideoQuality.HIGH, 640, 360)],
        }),
      ],
    });
    expect(announcedLayers(codecOnly)).toHaveLength(2);
  });

  it('takes no layers for one layer, or sizes that make no sense', () => {
    expect(announcedLayers(new AddTrackRequest({ layers: [layer(0, 640, 360)] }))).toEqual([]);
    expect(
      announcedLayers(new AddTrackRequest({ layers: [layer(0, 0, 180), layer(2, 99999, 360)] })),
    ).toEqual([]);
  });

  it("turns a subscriber's track_setting into a preference: hidden, a size, or a quality", () => {
    expect(preferenceOf(new UpdateTrackSettings({ disabled: true, width: 640 }))).toEqual({
      disabled: true,
    });
    expect(preferenceOf(new UpdateTrackSettings({ quality: VideoQuality.OFF }))).toEqual({
      disabled: true,
    });
    expect(
      preferenceOf(
        new UpdateTrackSettings({ width: 320, height: 180, quality: VideoQuality.HIGH }),
      ),
    ).toEqual({ width: 320, height: 180 });
    expect(preferenceOf(new UpdateTrackSettings({ quality: VideoQuality.LOW }))).toEqual({
      quality: 'low',
    });
    expect(preferenceOf(new UpdateTrackSettings({ quality: VideoQuality.MEDIUM }))).toEqual({
      quality: 'medium',
    });
    expect(preferenceOf(new UpdateTrackSettings({ width: 1e9, height: 10 }))).toEqual({
      width: 16384,
      height: 10,
    });
  });
});
