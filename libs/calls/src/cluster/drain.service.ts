import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsBroadcaster } from '../signaling/calls-broadcaster';
import { SessionBindings } from '../signaling/session-bindings';
import { DrainState } from './drain-state';
import { InstanceRegistry } from './instance-registry.service';

/**
 * Graceful drain on shutdown (SIGTERM with `enableShutdownHooks()`): stop accepting joins, tell
 * this instance's participants to move (`server_draining` event: connect to another instance,
 * join there, then leave here), wait until they have moved (bounded by `drainTimeoutMs`), then let
 * the shutdown close what is left. Without another live instance there is nowhere to move: no wait.
 */
@Injectable()
export class DrainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainService.name);

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    private readonly registry: InstanceRegistry,
    private readonly bindings: SessionBindings,
    private readonly broadcaster: CallsBroadcaster,
    private readonly state: DrainState,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const started = Date.now();
    this.state.draining = true;
    this.registry.setDraining(true);
    const sessions = this.bindings.all();
    const others = (await this.registry.live().catch(() => [])).filter(
      (i) => i.id !== this.options.instanceId && !i.draining,
    );
    this.logger.log(
      `draining [signal=${signal ?? '-'}, sessions=${sessions.length}, otherInstances=${others.length}]`,
    );
    if (sessions.length === 0 || others.length === 0) return;
    for (const b of sessions) {
      this.broadcaster.toSession(
        b.sessionId,
        'server_draining',
        { connID: b.sessionId, reason: 'shutdown' },
        b.channelId,
      );
    }
    const deadline = Date.now() + this.options.drainTimeoutMs;
    while (this.bindings.size > 0 && Date.now() < deadline) await sleep(100);
    this.logger.log(`drained [remaining=${this.bindings.size}, tookMs=${Date.now() - started}]`);
  }
}
