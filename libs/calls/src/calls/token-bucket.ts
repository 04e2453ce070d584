/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. Used per socket (messages) and per
 * user (HTTP requests).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token; false when none is left (the caller refuses the message). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond,
    );
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again (an idle entry can be dropped). */
  get idle(): boolean {
    return this.tokens + ((this.now() - this.updatedAt) / 1000) * this.ratePerSecond >= this.burst;
  }
}
