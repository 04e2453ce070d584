import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';

/**
 * Terminus health indicator of the calls module. Reports the state backend, its current mode
 * (`redis`, `memory` or `degraded`) and whether Redis is reachable. `auto` running on memory is
 * degraded but up (calls keep working); `redis` without Redis is down.
 */
@Injectable()
export class CallsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
  ) {}

  /** Checks the call state backend, under `key` in the health report. */
  checkState(key = 'calls_state'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const status = this.state.status();
    const details = { ...status };
    const down = status.backend === 'redis' && status.redisReachable !== true;
    return down ? indicator.down(details) : indicator.up(details);
  }
}
