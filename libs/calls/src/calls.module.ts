import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CALLS_OPTIONS } from './calls.constants';
import { CALLS_MODULE_OPTIONS, ConfigurableCallsModule } from './calls.module-definition';
import type { CallsModuleOptions } from './config/calls-options.interface';
import { resolveCallsOptions } from './config/calls-options.defaults';
import { CallsHealthIndicator } from './health/calls-health.indicator';
import {
  callStateRepositoryProvider,
  callsRedisClientProvider,
} from './state/call-state.providers';
import { CallStateRepository } from './state/call-state.repository';

/**
 * Group calls for a NestJS chat server, wire-compatible with Mattermost Calls clients.
 *
 * ```ts
 * CallsModule.forRoot({ stateBackend: 'redis', redisUrl: 'redis://redis:6379' })
 * // or, from the environment through @nestjs/config:
 * CallsModule.forRootAsync({ imports: [ConfigModule], inject: [callsConfig.KEY], useFactory: (c) => c })
 * ```
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: CALLS_OPTIONS,
      inject: [CALLS_MODULE_OPTIONS],
      useFactory: (options: CallsModuleOptions) => resolveCallsOptions(options),
    },
    callsRedisClientProvider,
    callStateRepositoryProvider,
    CallsHealthIndicator,
  ],
  exports: [CALLS_OPTIONS, CallStateRepository, CallsHealthIndicator],
})
export class CallsModule extends ConfigurableCallsModule {}
