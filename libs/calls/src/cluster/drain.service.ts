import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallDelivery, InjectCallDelivery } from '../calls/call-delivery.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import { DrainState } from '../calls/drain-state';
import { LocalSessions } from '../calls/local-sessions';
import { InstanceRegistry } from './instance-registry.service';

/** The options this class reads. */
type DrainOptions = Pick<ResolvedCallsOptions, 'drainTimeoutMs' | 'instanceId'>;

/** The signals that start a drain, and that end its wait when they come again. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/** How often the wait looks for the sessions' end, and for another instance to move them to. */
const POLL_MS = 100;
const LOOK_FOR_INSTANCES_MS = 2000;
const PROGRESS_LOG_MS = 60_000;

/**
 * Drain on shutdown, so that a rolling restart drops no call. A signal (SIGTERM or SIGINT, with
 * the host's `enableShutdownHooks()`) starts it:
 *
 * 1. Joins stop here (`draining` errors; `/health` reports the instance down, so load balancers
 *    send new connections elsewhere). A session's own reconnect is not a join and still works.
 * 2. As soon as another live instance exists (looked for again while waiting), every session
 *    served here is told to move (`draining`): LiveKit clients rejoin through another instance
 *    (`leave` SERVER_SHUTDOWN with action RECONNECT), the calls page does the same on
 *    `server_draining`. Stock Mattermost clients ignore it: they stay.
 * 3. This instance goes on serving whoever stays until their calls end for them (they leave, or
 *    the call ends), at most `drainTimeoutMs`; the same signal again ends the wait at once.
 * 4. Whoever is left then is removed (while Redis and the SFU are still open).
 *
 * A close without a signal (the host calling `app.close()`) does not wait: its sessions are told
 * and removed at once.
 */
@Injectable()
export class DrainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainService.name);

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: DrainOptions,
    private readonly instances: InstanceRegistry,
    private readonly sessions: LocalSessions,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
    private readonly drain: DrainState,
    private readonly membership: CallMembershipService,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const started = Date.now();
    this.drain.draining = true;
    this.instances.setDraining(true);
    const moved = await this.tellToMove();
    this.logger.log(
      `draining [signal=${signal ?? '-'}, sessions=${this.sessions.size}, toldToMove=${moved}]`,
    );
    if (signal !== undefined && this.sessions.size > 0) await this.waitForCallsToEnd(moved);
    // The last ones to leave are gone from here before their leave is written and answered.
    await this.membership.removalsSettled();
    await new Promise((resolve) => setImmediate(resolve));
    this.logger.log(`drained [remaining=${this.sessions.size}, tookMs=${Date.now() - started}]`);
    // Whoever is left is removed now, while Redis and the SFU are still up (the modules'
    // onApplicationShutdown hooks run in parallel and would close them under the removals).
    await Promise.all(
      this.sessions.all().map((s) => this.membership.removeSession(s.sessionId, 'shutdown')),
    );
  }

  /**
   * Waits until no session is served here, the drain timeout is over, or the stop signal comes
   * again; tells the sessions to move once another instance is live (if it was not yet).
   */
  private async waitForCallsToEnd(alreadyMoved: boolean): Promise<void> {
    const deadline = Date.now() + this.options.drainTimeoutMs;
    let stopNow = false;
    const onSignal = (): void => {
      stopNow = true;
    };
    STOP_SIGNALS.forEach((s) => process.on(s, onSignal));
    this.logger.log(
      `waiting for ${this.sessions.size} session(s) to end [atMostMs=${this.options.drainTimeoutMs}]; send the signal again to end them now`,
    );
    let moved = alreadyMoved;
    let nextLook = Date.now() + LOOK_FOR_INSTANCES_MS;
    let nextLog = Date.now() + PROGRESS_LOG_MS;
    try {
      while (this.sessions.size > 0 && Date.now() < deadline && !stopNow) {
        await sleep(POLL_MS);
        if (!moved && Date.now() >= nextLook) {
          moved = await this.tellToMove();
          nextLook = Date.now() + LOOK_FOR_INSTANCES_MS;
        }
        if (Date.now() >= nextLog) {
          this.logger.log(`draining [sessions=${this.sessions.size}]`);
          nextLog = Date.now() + PROGRESS_LOG_MS;
        }
      }
    } finally {
      STOP_SIGNALS.forEach((s) => process.off(s, onSignal));
    }
    if (stopNow) this.logger.log('drain ended by a second signal');
  }

  /**
   * Tells every session served here to move, when another live instance that is not draining
   * exists (there is nowhere to move otherwise). Whether it told them.
   */
  private async tellToMove(): Promise<boolean> {
    const others = (await this.instances.live().catch(() => [])).filter(
      (i) => i.id !== this.options.instanceId && !i.draining,
    );
    if (others.length === 0) return false;
    for (const { sessionId, channelId } of this.sessions.all()) {
      this.delivery.toSession(sessionId, channelId, {
        type: 'draining',
        sessionId,
        reason: 'shutdown',
      });
    }
    return true;
  }
}
