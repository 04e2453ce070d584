import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CALLS_OPTIONS } from '../calls.constants';
import { DrainState } from '../calls/drain-state';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { SfuService } from '../sfu/sfu.service';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';

/** The options this class reads. */
type HealthOptions = Pick<ResolvedCallsOptions, 'instanceId' | 'rtcWorkers'>;

/**
 * Terminus health indicators of the calls module:
 * - `checkState`: the state backend, its current mode (`redis`, `memory` or `degraded`) and
 *   whether Redis is reachable. `auto` running on memory is degraded but up (calls keep working);
 *   `redis` without Redis is down.
 * - `checkMedia`: the mediasoup workers (down when none is alive although some are configured).
 * - `checkInstance`: this instance's id and drain state (down while draining, so load balancers
 *   stop sending new clients).
 */
@Injectable()
export class CallsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @Inject(CALLS_OPTIONS) private readonly options: HealthOptions,
    private readonly sfu: SfuService,
    private readonly drain: DrainState,
  ) {}

  /** Checks the call state backend, under `key` in the health report. */
  checkState(key = 'calls_state'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const status = this.state.status();
    const details = { ...status };
    const down = status.backend === 'redis' && status.redisReachable !== true;
    return down ? indicator.down(details) : indicator.up(details);
  }

  /** Checks the mediasoup workers, under `key`. */
  checkMedia(key = 'calls_media'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const pids = this.sfu.workerPids();
    const details = { ...this.sfu.stats(), configured: this.options.rtcWorkers, pids };
    return this.options.rtcWorkers > 0 && pids.length === 0
      ? indicator.down(details)
      : indicator.up(details);
  }

  /** Reports this instance and whether it is draining, under `key`. */
  checkInstance(key = 'calls_instance'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const details = { instanceId: this.options.instanceId, draining: this.drain.draining };
    return this.drain.draining ? indicator.down(details) : indicator.up(details);
  }
}
