import type { WrtcTestPeer } from '@app/calls/testing';

/** Decoded audio a remote track needs before its tone counts (s). */
const TONE_WINDOW_S = 0.2;

/**
 * What one listener receives, by the tone of the speaker: between two {@link read}s, the RTP
 * packets per second of every receiving audio track, attributed to the tone that dominates the
 * track's decoded audio. A speaker heard on two tracks (an old one that went quiet and its
 * replacement after a renegotiation or a rejoin) counts with its best track; a track that no
 * longer receives counts for nobody.
 */
export class ToneRates {
  private readonly packets = new Map<string, number>();
  private readAt = 0;

  constructor(private readonly peer: WrtcTestPeer) {}

  /**
   * Packets per second per tone since the previous read (the first read gives null).
   * @param tones the tones of the listener's call
   */
  async read(
    tones: readonly number[],
  ): Promise<{ rates: Map<number, number>; seconds: number } | null> {
    const now = performance.now();
    const seconds = (now - this.readAt) / 1000;
    const first = this.readAt === 0;
    this.readAt = now;
    const byMid = new Map<string, number>();
    for (const s of await this.peer.inboundRtp()) {
      if (s.kind === 'audio' && s.mid !== null) byMid.set(s.mid, s.packets);
    }
    const toneOf = new Map<string, number>();
    for (const heard of this.peer.heardTones(tones, TONE_WINDOW_S)) {
      if (heard.mid !== null && heard.share > 0.8) toneOf.set(heard.mid, heard.frequencyHz);
    }
    const rates = new Map<number, number>();
    for (const [mid, packets] of byMid) {
      const before = this.packets.get(mid) ?? packets;
      this.packets.set(mid, packets);
      const tone = toneOf.get(mid);
      if (first || tone === undefined) continue;
      const rate = Math.max(0, packets - before) / seconds;
      rates.set(tone, Math.max(rates.get(tone) ?? 0, rate));
    }
    return first ? null : { rates, seconds };
  }
}

/** How much audio a speaker's process fed to libwebrtc between two reads (frames per second). */
export class FeedRate {
  private frames = 0;
  private readAt = 0;

  constructor(private readonly peer: WrtcTestPeer) {}

  /** 10 ms frames fed per second since the previous read (the first read gives null). */
  read(): number | null {
    const now = performance.now();
    const frames = this.peer.audioFramesFed;
    const rate = this.readAt === 0 ? null : (frames - this.frames) / ((now - this.readAt) / 1000);
    this.frames = frames;
    this.readAt = now;
    return rate;
  }
}
