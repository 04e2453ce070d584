/** Packet counters by stream (e.g. by transceiver mid or track): what a {@link GapMeter} samples. */
export type Counters = ReadonlyMap<string, number>;

/**
 * The longest time a flow of packets stopped: samples counters every `everyMs` and notes each
 * sample in which any counter changed and has packets (a stream replaced by a new one under the
 * same key, as after a rejoin, starts over: that counts) or a new one appeared with packets. A
 * failed sample counts as no progress.
 */
export class GapMeter {
  private readonly last = new Map<string, number>();
  private lastProgressAt = 0;
  private longestMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  private constructor(private readonly sample: () => Promise<Counters>) {}

  /** Starts sampling; the first progress is the one seen when it starts. */
  static async start(sample: () => Promise<Counters>, everyMs = 100): Promise<GapMeter> {
    const meter = new GapMeter(sample);
    for (const [key, packets] of await sample()) meter.last.set(key, packets);
    meter.lastProgressAt = Date.now();
    meter.timer = setInterval(() => void meter.tick(), everyMs);
    return meter;
  }

  /** Stops sampling; returns the longest gap seen (ms), the one still open included. */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return Math.max(this.longestMs, Date.now() - this.lastProgressAt);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const counters = await this.sample().catch(() => new Map<string, number>());
      let progress = false;
      for (const [key, packets] of counters) {
        const before = this.last.get(key);
        if (packets > 0 && packets !== before) progress = true;
        this.last.set(key, packets);
      }
      if (progress) {
        const now = Date.now();
        this.longestMs = Math.max(this.longestMs, now - this.lastProgressAt);
        this.lastProgressAt = now;
      }
    } finally {
      this.busy = false;
    }
  }
}
