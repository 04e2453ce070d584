import { OPUS_TICKS_PER_PACKET, PACKET_INTERVAL_MS, rtpPacket } from './rtp';

/**
 * Paces one participant's pre-encoded Opus: the packets due since it started (20 ms each), at
 * most `maxBurst` at once, so a late timer catches up without flooding.
 */
export class OpusPacer {
  /** Packets sent. */
  sent = 0;
  /** Packets skipped because the timer fell behind by more than a burst. */
  skipped = 0;
  /** The payload type written (the answer's Opus payload type). */
  payloadType = 111;
  private seq = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);
  private start = 0;

  /** Writes the packets due at `now` (ms, `performance.now()`) through `write`. */
  sendDue(now: number, maxBurst: number, write: (packet: Buffer) => void): void {
    if (this.start === 0) this.start = now;
    const due = Math.floor((now - this.start) / PACKET_INTERVAL_MS) + 1 - this.sent - this.skipped;
    for (let i = 0; i < Math.min(due, maxBurst); i++) {
      this.seq = (this.seq + 1) & 0xffff;
      this.timestamp = (this.timestamp + OPUS_TICKS_PER_PACKET) >>> 0;
      write(rtpPacket(this.payloadType, this.seq, this.timestamp, 0));
      this.sent++;
    }
    if (due > maxBurst) this.skipped += due - maxBurst; // not sent: seq-based loss ignores it
  }

  /** Takes the Opus payload type from an answer's SDP, if it names one. */
  useAnswer(sdp: string): void {
    const pt = /a=rtpmap:(\d+) opus\/48000/i.exec(sdp);
    if (pt) this.payloadType = Number(pt[1]);
  }
}
