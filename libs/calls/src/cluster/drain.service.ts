import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallDelivery, InjectCallDelivery } from '../calls/call-delivery.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import { DrainState } from '../calls/drain-state';
import { type LocalSession, LocalSessions } from '../calls/local-sessions';
import { InstanceRegistry } from './instance-registry.service';

/** The options this class reads. */
type DrainOptions = Pick<ResolvedCallsOptions, 'drainTimeoutMs' | 'instanceId'>;

/**
 * Graceful drain on shutdown (SIGTERM with `enableShutdownHooks()`): stop accepting joins, tell
 * this instance's participants to move (`server_draining` event: connect to another instance,
 * join there, then leave here), wait until they have moved (bounded by `drainTimeoutMs`), then
 * remove the sessions still here. Without another live instance there is nowhere to move: no wait.
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
    const sessions = this.sessions.all();
    const others = (await this.instances.live().catch(() => [])).filter(
      (i) => i.id !== this.options.instanceId && !i.draining,
    );
    this.logger.log(
      `draining [signal=${signal ?? '-'}, sessions=${sessions.length}, otherInstances=${others.length}]`,
    );
    if (sessions.length > 0 && others.length > 0) await this.waitForMoves(sessions);
    this.logger.log(`drained [remaining=${this.sessions.size}, tookMs=${Date.now() - started}]`);
    // Whoever is left is removed now, while Redis and the SFU are still up (the modules'
    // onApplicationShutdown hooks run in parallel and would close them under the removals).
    await Promise.all(
      this.sessions.all().map((s) => this.membership.removeSession(s.sessionId, 'shutdown')),
    );
  }

  private async waitForMoves(sessions: LocalSession[]): Promise<void> {
    for (const { sessionId, channelId } of sessions) {
      this.delivery.toSession(sessionId, channelId, {
        type: 'draining',
        sessionId,
        reason: 'shutdown',
      });
    }
    const deadline = Date.now() + this.options.drainTimeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await sleep(100);
  }
}
