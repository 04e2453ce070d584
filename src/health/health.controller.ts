import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { CallsHealthIndicator } from '@app/calls';

/** `GET /health`: the calls state backend and Redis, the mediasoup workers, the drain state. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly calls: CallsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.calls.checkState(),
      () => this.calls.checkMedia(),
      () => this.calls.checkInstance(),
    ]);
  }
}
