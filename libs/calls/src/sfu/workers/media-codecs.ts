import type { types as ms } from 'mediasoup';

/**
 * Codecs of every call's router. Payload types follow Chrome's numbering (Opus 111, VP8 96,
 * VP9 98) so that consumer sections rarely need numbers a Chrome client uses for something else;
 * H.264 is Constrained Baseline, packetization mode 1, which Chrome, Safari and mobile all have.
 */
export const ROUTER_MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    preferredPayloadType: 111,
    clockRate: 48000,
    channels: 2,
    parameters: { minptime: 10, useinbandfec: 1 },
  },
  { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 96, clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/VP9',
    preferredPayloadType: 98,
    clockRate: 90000,
    parameters: { 'profile-id': 0 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    preferredPayloadType: 109,
    clockRate: 90000,
    parameters: {
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
    },
  },
];
