/** Settings of server-initiated ICE restarts. */
export interface IceRestartSettings {
  /** How long `disconnected` may last before the first restart (ms). */
  readonly graceMs: number;
  /** Restarts per outage before giving up (0: give up after the grace period). */
  readonly maxAttempts: number;
  /** Wait after the first restart (ms); doubled after each further one. */
  readonly backoffMs: number;
}

/** What the policy asks its owner to do. */
export interface IceRestartActions {
  /** Restart ICE now (new server credentials, new server offer). `attempt` counts from 1. */
  restart(attempt: number): void;
  /** Give up: the session cannot reconnect. */
  giveUp(attempts: number): void;
}

/** ICE states as mediasoup (ICE-lite) reports them. */
export type ServerIceState = 'new' | 'connected' | 'completed' | 'disconnected' | 'closed';

/** Wait after restart `attempt` (1-based) before the next step: `backoffMs · 2^(attempt−1)`. */
export function restartWaitMs(settings: IceRestartSettings, attempt: number): number {
  return settings.backoffMs * 2 ** (attempt - 1);
}

/**
 * When to restart ICE for one session: after `graceMs` of `disconnected`, then again after each
 * exponentially growing wait while the session stays unconnected, and give up after
 * `maxAttempts`. Any `connected`/`completed` ends the outage and resets the count.
 */
export class IceRestartPolicy {
  private timer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private outage = false;
  private disposed = false;

  constructor(
    private readonly settings: IceRestartSettings,
    private readonly actions: IceRestartActions,
  ) {}

  /** Restarts made in the current outage. */
  get attemptsInOutage(): number {
    return this.attempts;
  }

  /** Feeds an ICE state change of the session's transport. */
  onIceState(state: ServerIceState): void {
    if (this.disposed) return;
    if (state === 'connected' || state === 'completed') {
      this.clear();
      this.outage = false;
      this.attempts = 0;
    } else if (state === 'disconnected' && !this.outage) {
      this.outage = true;
      this.schedule(this.settings.graceMs);
    } else if (state === 'closed') {
      this.dispose();
    }
  }

  /** Stops every timer; the policy does nothing afterwards. */
  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private schedule(ms: number): void {
    this.clear();
    this.timer = setTimeout(() => this.step(), ms);
    this.timer.unref?.();
  }

  private step(): void {
    this.timer = null;
    if (this.disposed || !this.outage) return;
    if (this.attempts >= this.settings.maxAttempts) {
      this.dispose();
      this.actions.giveUp(this.attempts);
      return;
    }
    this.attempts++;
    this.schedule(restartWaitMs(this.settings, this.attempts));
    this.actions.restart(this.attempts);
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
