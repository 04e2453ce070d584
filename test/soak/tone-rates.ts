import type { WrtcTestPeer } from '@app/calls/testing';

/** Decoded audio a remote track needs before its tone counts (s). */
const TONE_WINDOW_S = 0.2;
/** How long a peer's tracks keep their tones before they are told apart again (ms). */
const TONES_KEPT_MS = 1000;
/** Soonest the tones are told apart again for a track not known yet (ms). */
const NEW_TRACK_RETRY_MS = 200;

/** The tone of each receiving audio track of a peer, shared by every reader of it (see {@link tonesOf}). */
const toneCache = new WeakMap<WrtcTestPeer, { at: number; toneOf: Map<string, number> }>();

/**
 * The tone that dominates each receiving audio track of `peer` (by mid). Telling tones apart
 * costs CPU the peers need (a Goertzel pass over half a second of audio per track and tone), so
 * the result is kept for a second, and worked out again sooner only for a track with packets
 * and no tone yet.
 */
function tonesOf(
  peer: WrtcTestPeer,
  tones: readonly number[],
  flowing: Iterable<string>,
): Map<string, number> {
  const now = performance.now();
  const cached = toneCache.get(peer);
  if (cached) {
    const age = now - cached.at;
    const unknown = [...flowing].some((mid) => !cached.toneOf.has(mid));
    if (age < TONES_KEPT_MS && (!unknown || age < NEW_TRACK_RETRY_MS)) return cached.toneOf;
  }
  const toneOf = new Map<string, number>();
  for (const heard of peer.heardTones(tones, TONE_WINDOW_S)) {
    if (heard.mid !== null && heard.share > 0.8) toneOf.set(heard.mid, heard.frequencyHz);
  }
  toneCache.set(peer, { at: now, toneOf });
  return toneOf;
}

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

  /**
   * @param tones every tone a speaker may send (the same list for every reader of a peer)
   */
  constructor(
    private readonly peer: WrtcTestPeer,
    private readonly tones: readonly number[],
  ) {}

  /** Packets per second per tone since the previous read (the first read gives null). */
  async read(): Promise<{ rates: Map<number, number>; seconds: number } | null> {
    const now = performance.now();
    const seconds = (now - this.readAt) / 1000;
    const first = this.readAt === 0;
    this.readAt = now;
    const byMid = new Map<string, number>();
    for (const s of await this.peer.inboundRtp()) {
      if (s.kind === 'audio' && s.mid !== null) byMid.set(s.mid, s.packets);
    }
    const flowing = [...byMid]
      .filter(([mid, n]) => n > (this.packets.get(mid) ?? n))
      .map(([m]) => m);
    const toneOf = tonesOf(this.peer, this.tones, flowing);
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
