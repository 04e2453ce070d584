import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The recorded camera the video bench replays (written by bench/record-camera.ts). */
export const CAMERA_FIXTURE = join(__dirname, '..', 'fixtures', 'camera-720p-simulcast.rtp');

/** One simulcast layer of a recording, lowest first. */
export interface RecordedLayer {
  /** The rid a browser would give it (q, h, f). */
  readonly rid: string;
  /** Frame size read from the layer's key frames. */
  readonly width: number;
  readonly height: number;
  /** Bits per second over the recording. */
  readonly bitrate: number;
  /** Key frames in the recording. */
  readonly keyFrames: number;
}

/** One recorded RTP packet's payload (VP8 payload descriptor + VP8 data) and its timing. */
export interface RecordedPacket {
  /** Index into {@link CameraRecording.layers}. */
  readonly layer: number;
  readonly marker: boolean;
  /** 90 kHz ticks since the recording's start (the layers share this clock). */
  readonly ticks: number;
  /** When it arrived, µs since the recording's start (the replay sends it then). */
  readonly atUs: number;
  readonly payload: Buffer;
}

/** A camera recorded as RTP packets, every layer starting with a key frame at time 0. */
export interface CameraRecording {
  readonly layers: RecordedLayer[];
  /** Length of one loop (µs); a replay starts the next loop then, at the first key frames. */
  readonly durationUs: number;
  /** Packets in time order. */
  readonly packets: RecordedPacket[];
}

const MAGIC = 'vp8-simulcast-rtp 1\n';
/** layer u8, marker u8, ticks u32, atUs u32, length u16. */
const RECORD_HEADER = 12;

/**
 * Writes a recording: a text line naming the format, a JSON line with the layers and the
 * duration, then each packet as a 12-byte big-endian record header and its payload.
 */
export function writeRecording(path: string, rec: CameraRecording): void {
  const meta = Buffer.from(
    `${MAGIC}${JSON.stringify({ layers: rec.layers, durationUs: rec.durationUs })}\n`,
  );
  const parts: Buffer[] = [meta];
  for (const p of rec.packets) {
    const h = Buffer.alloc(RECORD_HEADER);
    h.writeUInt8(p.layer, 0);
    h.writeUInt8(p.marker ? 1 : 0, 1);
    h.writeUInt32BE(p.ticks >>> 0, 2);
    h.writeUInt32BE(p.atUs >>> 0, 6);
    h.writeUInt16BE(p.payload.length, 10);
    parts.push(h, p.payload);
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** Reads a recording written by {@link writeRecording}. */
export function readRecording(path: string = CAMERA_FIXTURE): CameraRecording {
  const data = readFileSync(path);
  if (data.subarray(0, MAGIC.length).toString() !== MAGIC) {
    throw new Error(`${path}: not a camera recording (run bench/record-camera.ts)`);
  }
  const metaEnd = data.indexOf(0x0a, MAGIC.length);
  const meta = JSON.parse(data.subarray(MAGIC.length, metaEnd).toString()) as Omit<
    CameraRecording,
    'packets'
  >;
  const packets: RecordedPacket[] = [];
  for (let at = metaEnd + 1; at < data.length;) {
    const length = data.readUInt16BE(at + 10);
    packets.push({
      layer: data.readUInt8(at),
      marker: data.readUInt8(at + 1) === 1,
      ticks: data.readUInt32BE(at + 2),
      atUs: data.readUInt32BE(at + 6),
      payload: data.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length),
    });
    at += RECORD_HEADER + length;
  }
  return { ...meta, packets };
}

/** What a VP8 RTP payload starts (RFC 7741): whether a key frame, and its size if so. */
export function vp8KeyFrame(payload: Buffer): { width: number; height: number } | null {
  if (payload.length < 1) return null;
  const b0 = payload[0];
  const start = (b0 & 0x10) !== 0;
  const partition = b0 & 0x07;
  let i = 1;
  if (b0 & 0x80) {
    const x = payload[i++];
    if (x & 0x80) i += payload[i] & 0x80 ? 2 : 1; // picture id, 7 or 15 bits
    if (x & 0x40) i++; // TL0PICIDX
    if (x & 0x30) i++; // TID / KEYIDX
  }
  if (!start || partition !== 0 || i + 10 > payload.length) return null;
  if ((payload[i] & 0x01) !== 0) return null; // P bit: an inter frame
  // Key frame: 3-byte frame tag, start code 9d 01 2a, 14-bit width and height.
  if (payload[i + 3] !== 0x9d || payload[i + 4] !== 0x01 || payload[i + 5] !== 0x2a) return null;
  return {
    width: payload.readUInt16LE(i + 6) & 0x3fff,
    height: payload.readUInt16LE(i + 8) & 0x3fff,
  };
}
