import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import { type LocalSession, LocalSessions } from '../calls/local-sessions';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallSessionState } from '../state/call-state.types';
import { ServedCallSnapshots } from '../state/served-call-snapshots';
import { RedisContinuity, type RedisRestoredReason } from './redis-continuity.service';

/** The options this class reads. */
type RebuildOptions = Pick<ResolvedCallsOptions, 'instanceId' | 'stateBackend'>;

/** A failed rebuild is tried again this much later (ms), this many times. */
const RETRY_MS = 1000;
const RETRIES = 30;
/** Longest wait for the `auto` backend to be back on Redis before looking for orphans (ms). */
const AUTO_MERGE_WAIT_MS = 30_000;

/**
 * Puts back into Redis what this instance holds when Redis may have lost it (it came back after
 * an outage, a failover, or restarted empty: see {@link RedisContinuity}), and keeps the call
 * state true to what it serves:
 *
 * - **Restore** (`redis` backend): every call with sessions served here gets those sessions back,
 *   with the fields last seen ({@link ServedCallSnapshots}); a call Redis lost is created again with
 *   the same id, the other instances add theirs under compare-and-swap
 *   (`CallStateRepository.restoreSessions`). The `auto` backend does the same from its memory
 *   mirror when it leaves its fallback.
 * - **Orphans** (both): a session the state says this instance serves, which it does not, and
 *   which it knows it should not be there (it stopped being served here, and a failover lost its
 *   removal; or it joined before this process started: a previous process with the same instance
 *   id served it), is removed with the usual events. Sessions written by others with this
 *   instance's id (a host app using the repository directly) are left alone.
 *
 * Runs one pass at a time; a request during a pass runs another pass after it.
 */
@Injectable()
export class ServedStateRebuilder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ServedStateRebuilder.name);
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again: RedisRestoredReason | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When this process started serving (sessions that joined before belong to a previous one). */
  private readonly bootAt = Date.now();

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: RebuildOptions,
    private readonly continuity: RedisContinuity,
    private readonly sessions: LocalSessions,
    private readonly membership: CallMembershipService,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly snapshots: ServedCallSnapshots,
  ) {}

  onModuleInit(): void {
    if (this.options.stateBackend === 'memory') return;
    this.unsubscribe = this.continuity.onRestored((reason) => void this.request(reason));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Runs a pass now, or after the one under way. Resolves when the passes are done. */
  request(reason: RedisRestoredReason, retries = RETRIES): Promise<void> {
    if (this.running) {
      this.again = reason;
      return this.running;
    }
    this.running = this.passes(reason, retries).finally(() => (this.running = null));
    return this.running;
  }

  private async passes(first: RedisRestoredReason, retries: number): Promise<void> {
    let reason: RedisRestoredReason | null = first;
    while (reason && !this.stopped) {
      this.again = null;
      try {
        await this.pass(reason);
      } catch (err) {
        this.logger.warn(
          `rebuilding the state of the calls served here failed, retrying [reason=${reason}]: ${(err as Error).message}`,
        );
        if (retries > 0) this.retryLater(reason, retries - 1);
      }
      reason = this.again;
    }
  }

  private retryLater(reason: RedisRestoredReason, retries: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.request(reason, retries), RETRY_MS);
    this.retryTimer.unref();
  }

  private async pass(reason: RedisRestoredReason): Promise<void> {
    const restored = this.options.stateBackend === 'redis' ? await this.restore() : 0;
    // auto: the orphans are looked for in Redis, once the memory mirror has been merged back.
    if (this.options.stateBackend === 'auto') await this.servedByRedis();
    const orphans = await this.removeOrphans();
    if (restored + orphans > 0) {
      this.logger.warn(
        `call state rebuilt [reason=${reason}, sessionsRestored=${restored}, orphansRemoved=${orphans}]`,
      );
    }
  }

  /** Waits (bounded) until the `auto` backend serves from Redis again. */
  private async servedByRedis(): Promise<void> {
    const deadline = Date.now() + AUTO_MERGE_WAIT_MS;
    while (this.state.status().mode !== 'redis' && Date.now() < deadline && !this.stopped) {
      await sleep(100);
    }
    if (this.state.status().mode !== 'redis') throw new Error('auto backend still on memory');
  }

  /** Puts the sessions served here back into their calls; returns how many were missing. */
  private async restore(): Promise<number> {
    const byCall = new Map<string, LocalSession[]>();
    for (const session of this.sessions.all()) {
      const list = byCall.get(session.callId) ?? [];
      list.push(session);
      byCall.set(session.callId, list);
    }
    this.snapshots.retain(new Set(byCall.keys()));
    let restored = 0;
    for (const [callId, locals] of byCall) {
      const snapshot = this.snapshots.get(callId);
      if (!snapshot) continue;
      const sessions = locals.map((l) => this.sessionState(l, snapshot.sessions.get(l.sessionId)));
      const result = await this.state.restoreSessions(snapshot.call, sessions);
      if (result.call.id !== callId) {
        this.logger.error(
          `the channel has another call now, sessions not restored [callId=${callId}, channelCall=${result.call.id}, sessions=${sessions.length}]`,
        );
        continue;
      }
      this.snapshots.settle(result.call);
      restored += result.restored;
    }
    return restored;
  }

  /** A local session as the state holds it: the fields last seen, served here. */
  private sessionState(local: LocalSession, seen: CallSessionState | undefined): CallSessionState {
    const base: CallSessionState = seen ?? {
      sessionId: local.sessionId,
      userId: local.userId,
      unmuted: false,
      raisedHand: 0,
      video: false,
      joinAt: Date.now(),
      instanceId: this.options.instanceId,
    };
    return { ...base, instanceId: this.options.instanceId };
  }

  /**
   * Removes the sessions the state says are served here that left here, or belong to a previous
   * process with this instance's id; returns how many.
   */
  private async removeOrphans(): Promise<number> {
    let removed = 0;
    for (const call of await this.state.listActiveCalls()) {
      for (const session of Object.values(call.sessions)) {
        if (session.instanceId !== this.options.instanceId) continue;
        if (this.membership.serves(session.sessionId)) continue;
        const previousProcess = session.joinAt < this.bootAt;
        if (!previousProcess && !this.sessions.departedRecently(session.sessionId)) continue;
        await this.membership.removeFromState(call.id, session.sessionId, 'not served here');
        removed++;
      }
    }
    return removed;
  }
}
