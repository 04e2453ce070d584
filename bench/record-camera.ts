/**
 * Records the camera the video bench replays (bench/fixtures/camera-720p-simulcast.rtp), once:
 * `TS_NODE_TRANSPILE_ONLY=1 node -r ts-node/register bench/record-camera.ts [seconds]`.
 *
 * A libwebrtc sender (@roamhq/wrtc, libvpx) encodes a synthetic 1280×720 30 fps camera (a
 * textured picture panning, with sensor-like noise) as a browser sends a camera: VP8 simulcast
 * with rids q, h, f at 1/4, 1/2 and full size, capped at 150, 500 and 1200 kbit/s, L1T3. It
 * sends to a bare mediasoup WebRtcTransport (transport-wide congestion control; the answer's
 * x-google bitrates keep the estimate where all three layers fit); a PipeTransport consumer
 * forwards every layer as sent to a UDP socket that records it. Key frames are asked for every
 * 3 s (what the replay loops then show). After a warm-up (`RECORD_WARMUP_S`, 15), `seconds` (8) are kept, each layer from its
 * first key frame.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import * as sdpTransform from 'sdp-transform';
import { RtpPacket } from 'werift';
import type { WrtcModule, WrtcVideoSource } from '../libs/calls/src/testing/wrtc.types';
import {
  CAMERA_FIXTURE,
  type RecordedLayer,
  type RecordedPacket,
  vp8KeyFrame,
  writeRecording,
} from './lib/camera-recording';
import { envNumber } from './lib/env';
import { isRtp } from './lib/rtp';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
/**
 * Marks the source as a screencast: libwebrtc then lowers the frame rate, not the resolution, when
 * the machine is too busy to encode in time (its only way to keep 1280×720 on a shared machine).
 */
const RECORD_SCREENCAST = envNumber('RECORD_SCREENCAST', 0) > 0;
const ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];
const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/**
 * A synthetic camera: a textured picture panning sideways (what motion search finds), and a band
 * of fresh noise moving up and down (what it cannot predict, like a moving face), so that the
 * encoder spends its target bitrate. Only row copies per frame: the load is libvpx's.
 */
function startCamera(source: WrtcVideoSource): () => void {
  const stride = WIDTH * 2;
  const texture = Buffer.alloc(stride * HEIGHT);
  const blocks = randomFillSync(Buffer.alloc((stride / 16) * (HEIGHT / 16)));
  const fine = randomFillSync(Buffer.alloc(stride * HEIGHT));
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < stride; x++) {
      const block = blocks[(y >> 4) * (stride / 16) + (x >> 4)];
      texture[y * stride + x] = 48 + (block >> 1) + (fine[y * stride + x] & 0x07);
    }
  }
  const noise = randomFillSync(Buffer.alloc(stride * HEIGHT));
  for (let i = 0; i < noise.length; i++) noise[i] = 96 + (noise[i] & 0x3f);
  const band = HEIGHT / 24;
  let n = 0;
  const timer = setInterval(() => {
    const frame = new Uint8Array(WIDTH * HEIGHT * 1.5);
    const shift = (n * 2) % WIDTH;
    const bandTop = Math.round(((Math.sin(n / 20) + 1) / 2) * (HEIGHT - band));
    for (let y = 0; y < HEIGHT; y++) {
      const inBand = y >= bandTop && y < bandTop + band;
      const from = inBand ? noise : texture;
      const at = inBand
        ? Math.floor(Math.random() * HEIGHT) * stride + WIDTH / 2
        : y * stride + shift;
      frame.set(from.subarray(at, at + WIDTH), y * WIDTH);
    }
    frame.fill(128 + ((n >> 2) & 0x1f), WIDTH * HEIGHT, WIDTH * HEIGHT * 1.25);
    frame.fill(128, WIDTH * HEIGHT * 1.25);
    source.onFrame({ width: WIDTH, height: HEIGHT, data: frame });
    n++;
  }, 1000 / FPS);
  return () => clearInterval(timer);
}

/** The answer a recvonly simulcast endpoint (the mediasoup transport) gives to the offer. */
function answerFor(
  offer: sdpTransform.SessionDescription,
  transport: ms.WebRtcTransport,
  pt: number,
  extIds: Record<string, number>,
): string {
  const m = offer.media[0];
  const { iceParameters, iceCandidates, dtlsParameters } = transport;
  const fp = dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256')!;
  const lines = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${m.mid}`,
    'a=ice-lite',
    `m=video 9 UDP/TLS/RTP/SAVPF ${pt}`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${m.mid}`,
    'a=recvonly',
    `a=ice-ufrag:${iceParameters.usernameFragment}`,
    `a=ice-pwd:${iceParameters.password}`,
    `a=fingerprint:sha-256 ${fp.value}`,
    'a=setup:passive',
    'a=rtcp-mux',
    'a=rtcp-rsize',
    `a=rtpmap:${pt} VP8/90000`,
    `a=rtcp-fb:${pt} nack`,
    `a=rtcp-fb:${pt} nack pli`,
    `a=rtcp-fb:${pt} ccm fir`,
    `a=rtcp-fb:${pt} transport-cc`,
    // The estimate starts and stays where all three layers fit (a browser on a good network):
    // without it, libwebrtc starts at 300 kbit/s and sends the top layer only much later.
    `a=fmtp:${pt} x-google-start-bitrate=2000;x-google-min-bitrate=1900;x-google-max-bitrate=2500`,
    ...Object.entries(extIds).map(([uri, id]) => `a=extmap:${id} ${uri}`),
    ...ENCODINGS.map((e) => `a=rid:${e.rid} recv`),
    `a=simulcast:recv ${ENCODINGS.map((e) => e.rid).join(';')}`,
    ...iceCandidates.map(
      (c) =>
        `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ host`,
    ),
    'a=end-of-candidates',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

async function record(seconds: number): Promise<void> {
  const wrtc = (await import('@roamhq/wrtc')) as unknown as WrtcModule;
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({
    mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }],
  });
  const transport = await router.createWebRtcTransport({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
  });
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  const source = new wrtc.nonstandard.RTCVideoSource({ isScreencast: RECORD_SCREENCAST });
  const track = source.createTrack();
  const stopCamera = startCamera(source);
  try {
    pc.addTransceiver(track, {
      direction: 'sendonly',
      streams: [new wrtc.MediaStream([track])],
      sendEncodings: ENCODINGS,
    });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const parsed = sdpTransform.parse(offer.sdp ?? '');
    const m = parsed.media[0];
    const vp8 = m.rtp.find((r) => r.codec.toUpperCase() === 'VP8');
    if (!vp8) throw new Error('the sender offers no VP8');
    const extIds: Record<string, number> = {};
    for (const e of m.ext ?? [])
      if ([MID_URI, RID_URI, TWCC_URI].includes(e.uri)) extIds[e.uri] = e.value;
    const fingerprint = (m.fingerprint ?? parsed.fingerprint)!;
    await transport.connect({
      dtlsParameters: {
        role: 'client',
        fingerprints: [{ algorithm: fingerprint.type as 'sha-256', value: fingerprint.hash }],
      },
    });
    const producer = await transport.produce({
      kind: 'video',
      rtpParameters: {
        mid: String(m.mid),
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: vp8.payload,
            clockRate: 90000,
            rtcpFeedback: [
              { type: 'nack' },
              { type: 'nack', parameter: 'pli' },
              { type: 'ccm', parameter: 'fir' },
              { type: 'transport-cc' },
            ],
          },
        ],
        headerExtensions: Object.entries(extIds).map(([uri, id]) => ({
          uri: uri as ms.RtpHeaderExtensionUri,
          id,
        })),
        encodings: ENCODINGS.map((e) => ({ rid: e.rid, scalabilityMode: 'L1T3' })),
      },
    });
    await pc.setRemoteDescription({
      type: 'answer',
      sdp: answerFor(parsed, transport, vp8.payload, extIds),
    });

    // A pipe consumer forwards every layer as the sender sent it (its own SSRC each): plain RTP
    // to a UDP socket of ours.
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const pipe = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    });
    await pipe.connect({ ip: '127.0.0.1', port: socket.address().port });
    const consumer = await pipe.consume({ producerId: producer.id });
    const layerOf = new Map(consumer.rtpParameters.encodings!.map((e, i) => [e.ssrc, i]));
    const keyFrames = setInterval(() => void consumer.requestKeyFrame(), 3000);
    const warmup = envNumber('RECORD_WARMUP_S', 15);
    console.log(`[record] warming up ${warmup} s (the sender's estimate ramps up)`);
    await sleep(warmup * 1000);
    const streams = (await producer.getStats()).map(
      (st) => `${st.rid}: ${Math.round(st.bitrate / 1000)} kbit/s`,
    );
    console.log(`[record] the sender's layers: ${streams.join(', ')}`);

    // Each layer from its first key frame on; the recording's clock starts at the earliest.
    type Raw = { layer: number; marker: boolean; ts: number; at: number; payload: Buffer };
    const raw: Raw[] = [];
    const started = ENCODINGS.map(() => false);
    const sizes = ENCODINGS.map(() => ({ width: 0, height: 0, keyFrames: 0 }));
    socket.on('message', (data: Buffer) => {
      if (!isRtp(data)) return;
      const rtp = RtpPacket.deSerialize(data);
      const layer = layerOf.get(rtp.header.ssrc);
      if (layer === undefined) return;
      const key = vp8KeyFrame(rtp.payload);
      if (key) {
        started[layer] = true;
        Object.assign(sizes[layer], key);
        sizes[layer].keyFrames++;
      }
      if (!started[layer]) return;
      raw.push({
        layer,
        marker: rtp.header.marker,
        ts: rtp.header.timestamp,
        at: performance.now(),
        payload: Buffer.from(rtp.payload),
      });
    });
    await consumer.requestKeyFrame();
    await sleep(seconds * 1000);
    clearInterval(keyFrames);
    socket.close();

    const missing = ENCODINGS.filter((_, l) => !raw.some((p) => p.layer === l));
    if (missing.length > 0)
      throw new Error(`no key frame of ${missing.map((e) => e.rid).join(', ')}`);
    const t0 = Math.min(...ENCODINGS.map((_, l) => raw.find((p) => p.layer === l)!.at));
    const t1 = raw[raw.length - 1].at;
    const firsts = ENCODINGS.map((_, l) => raw.find((p) => p.layer === l)!);
    const packets: RecordedPacket[] = raw.map((p) => {
      const first = firsts[p.layer];
      return {
        layer: p.layer,
        marker: p.marker,
        ticks: ((p.ts - first.ts) >>> 0) + Math.round((first.at - t0) * 90),
        atUs: Math.round((p.at - t0) * 1000),
        payload: p.payload,
      };
    });
    const durationUs = Math.round((t1 - t0) * 1000) + 33_333;
    const layers: RecordedLayer[] = ENCODINGS.map((e, l) => ({
      rid: e.rid,
      width: sizes[l].width,
      height: sizes[l].height,
      keyFrames: sizes[l].keyFrames,
      bitrate: Math.round(
        (packets.filter((p) => p.layer === l).reduce((n, p) => n + p.payload.length + 12, 0) * 8) /
          (durationUs / 1e6),
      ),
    }));
    writeRecording(CAMERA_FIXTURE, { layers, durationUs, packets });
    writeFileSync(`${CAMERA_FIXTURE}.json`, `${JSON.stringify({ layers, durationUs }, null, 2)}\n`);
    console.log(`[record] ${packets.length} packets, ${durationUs / 1e6} s:`, layers);
  } finally {
    stopCamera();
    pc.close();
    worker.close();
  }
}

record(Number(process.argv[2] ?? 8)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
