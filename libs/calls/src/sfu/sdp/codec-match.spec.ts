import { isMediaCodec, isRtx, sameCodec } from './codec-match';
import { h264Profile } from './h264-profile';

const h264 = (params: Record<string, unknown>) => ({
  mimeType: 'video/H264',
  clockRate: 90000,
  parameters: params,
});

describe('codec matching', () => {
  it('matches mime type case-insensitively, clock rate and audio channels', () => {
    const opus = { mimeType: 'audio/opus', clockRate: 48000, channels: 2 };
    expect(sameCodec(opus, { mimeType: 'audio/OPUS', clockRate: 48000, channels: 2 })).toBe(true);
    expect(sameCodec(opus, { mimeType: 'audio/opus', clockRate: 48000, channels: 1 })).toBe(false);
    expect(sameCodec(opus, { mimeType: 'audio/opus', clockRate: 16000, channels: 2 })).toBe(false);
    expect(
      sameCodec(
        { mimeType: 'video/VP8', clockRate: 90000 },
        { mimeType: 'video/vp8', clockRate: 90000 },
      ),
    ).toBe(true);
  });

  it('matches H.264 by packetization mode and profile, not level', () => {
    const router = h264({ 'packetization-mode': 1, 'profile-level-id': '42e01f' });
    expect(sameCodec(h264({ 'packetization-mode': 1, 'profile-level-id': '42e034' }), router)).toBe(
      true,
    );
    expect(sameCodec(h264({ 'packetization-mode': 1, 'profile-level-id': '4d001f' }), router)).toBe(
      false,
    );
    expect(sameCodec(h264({ 'packetization-mode': 0, 'profile-level-id': '42e01f' }), router)).toBe(
      false,
    );
    expect(sameCodec(h264({ 'packetization-mode': 1, 'profile-level-id': '42001f' }), router)).toBe(
      false,
    );
  });

  it('matches VP9 by profile-id', () => {
    const vp9 = (p: number | undefined) => ({
      mimeType: 'video/VP9',
      clockRate: 90000,
      parameters: p === undefined ? {} : { 'profile-id': p },
    });
    expect(sameCodec(vp9(0), vp9(undefined))).toBe(true);
    expect(sameCodec(vp9(2), vp9(0))).toBe(false);
  });

  it('tells media codecs from RTX, RED, FEC, CN and DTMF', () => {
    expect(isRtx({ mimeType: 'video/rtx', clockRate: 90000 })).toBe(true);
    for (const name of ['rtx', 'red', 'ulpfec', 'CN', 'telephone-event']) {
      expect(isMediaCodec({ mimeType: `audio/${name}`, clockRate: 8000 })).toBe(false);
    }
    expect(isMediaCodec({ mimeType: 'audio/opus', clockRate: 48000 })).toBe(true);
  });

  it('reads H.264 profiles like libwebrtc', () => {
    expect(h264Profile('42e01f')).toBe('constrained-baseline');
    expect(h264Profile('4d401f')).toBe('main');
    expect(h264Profile('4de01f')).toBe('constrained-baseline');
    expect(h264Profile('42001f')).toBe('baseline');
    expect(h264Profile('640c1f')).toBe('constrained-high');
    expect(h264Profile('64001f')).toBe('high');
    expect(h264Profile(undefined)).toBe('constrained-baseline');
    expect(h264Profile('zz')).toBeNull();
  });
});
