/** Pre-encoded RTP for load generators, and loss counting from sequence numbers. */

/** One Opus frame of 20 ms of silence (TOC 0xF8: CELT fullband 20 ms, one frame). */
export const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

/** RTP clock ticks per 20 ms Opus packet (48 kHz). */
export const OPUS_TICKS_PER_PACKET = 960;

/** Packet interval of the generators (ms). */
export const PACKET_INTERVAL_MS = 20;

/** SRTP suites the generator can send (mediasoup names). */
export type GeneratorSrtpSuite = 'AEAD_AES_128_GCM' | 'AES_CM_128_HMAC_SHA1_80';

/** Bytes of master key plus salt of a suite (what `keyBase64` carries). */
export const SRTP_KEY_BYTES: Record<GeneratorSrtpSuite, number> = {
  AEAD_AES_128_GCM: 28,
  AES_CM_128_HMAC_SHA1_80: 30,
};

/** A 12-byte RTP header (version 2, no extensions) followed by `payload`. */
export function rtpPacket(
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
  payload: Buffer = OPUS_SILENCE,
): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = payloadType & 0x7f;
  packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** Whether a datagram looks like RTP rather than RTCP (RFC 5761 demultiplexing). */
export function isRtp(packet: Buffer): boolean {
  if (packet.length < 12 || packet[0] >> 6 !== 2) return false;
  const pt = packet[1] & 0x7f;
  return pt < 64 || pt > 95;
}

/** Sequence numbers remembered per stream to recognise a packet received twice. */
const DUPLICATE_WINDOW = 1024;

interface StreamWindow {
  received: number;
  /** Bytes of the packets received (RTP header + payload), duplicates not counted. */
  bytes: number;
  /** Packets whose sequence number was already received (e.g. retransmissions): not in `received`. */
  duplicates: number;
  /** Extended (unwrapped) sequence numbers seen first and last in the window. */
  first: number;
  highest: number;
  /** The extended sequence number last received in each slot (`extended % DUPLICATE_WINDOW`). */
  recent: Float64Array;
}

function streamWindow(seq: number, bytes: number): StreamWindow {
  const recent = new Float64Array(DUPLICATE_WINDOW).fill(NaN);
  recent[seq % DUPLICATE_WINDOW] = seq;
  return { received: 1, bytes, duplicates: 0, first: seq, highest: seq, recent };
}

/**
 * Counts received RTP per SSRC within a window. Loss of a stream is
 * `1 - received / (highest - first + 1)` over its sequence numbers, which does not depend on
 * when the window opened relative to packets in flight; streams that delivered nothing in the
 * window are counted separately. A sequence number received again (a retransmission answering a
 * NACK) counts as a duplicate, not as another packet received.
 */
export class StreamCounter {
  private streams = new Map<number, StreamWindow>();
  /** Packets counted since the counter was made (not reset by windows). */
  total = 0;

  /** Records one packet of `ssrc` with 16-bit sequence number `seq` and `bytes` long. */
  add(ssrc: number, seq: number, bytes = 0): void {
    this.total++;
    const s = this.streams.get(ssrc);
    if (!s) {
      this.streams.set(ssrc, streamWindow(seq, bytes));
      return;
    }
    // Unwrap to the extended number closest to the highest seen.
    let extended = s.highest - (s.highest & 0xffff) + seq;
    if (extended - s.highest > 0x8000) extended -= 0x10000;
    else if (s.highest - extended > 0x8000) extended += 0x10000;
    const slot = ((extended % DUPLICATE_WINDOW) + DUPLICATE_WINDOW) % DUPLICATE_WINDOW;
    if (s.recent[slot] === extended) {
      s.duplicates++;
      return;
    }
    s.recent[slot] = extended;
    s.received++;
    s.bytes += bytes;
    if (extended > s.highest) s.highest = extended;
    if (extended < s.first) s.first = extended;
  }

  /** Records a raw RTP datagram. */
  addPacket(packet: Buffer): void {
    if (!isRtp(packet)) return;
    this.add(packet.readUInt32BE(8), packet.readUInt16BE(2), packet.length);
  }

  /** Starts a new window. */
  reset(): void {
    this.streams = new Map();
  }

  /**
   * What the window saw: streams, packets received, packets expected from sequence numbers,
   * duplicates, bytes.
   */
  snapshot(): WindowCounts {
    let bytes = 0;
    let received = 0;
    let expected = 0;
    let duplicates = 0;
    for (const s of this.streams.values()) {
      received += s.received;
      bytes += s.bytes;
      expected += s.highest - s.first + 1;
      duplicates += s.duplicates;
    }
    return { streams: this.streams.size, received, expected, duplicates, bytes };
  }
}

/** Counts of a window. */
export interface WindowCounts {
  readonly streams: number;
  readonly received: number;
  readonly expected: number;
  readonly duplicates: number;
  /** Bytes received (RTP header + payload; 0 where the counter was not given sizes). */
  readonly bytes: number;
}

/** Adds window counts. */
export function sumCounts(counts: WindowCounts[]): WindowCounts {
  return counts.reduce(
    (a, c) => ({
      streams: a.streams + c.streams,
      received: a.received + c.received,
      expected: a.expected + c.expected,
      duplicates: a.duplicates + c.duplicates,
      bytes: a.bytes + c.bytes,
    }),
    { streams: 0, received: 0, expected: 0, duplicates: 0, bytes: 0 },
  );
}
