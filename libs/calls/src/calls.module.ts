import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CallsController } from './api/calls.controller';
import { HostControlsController } from './api/host-controls.controller';
import { CALLS_OPTIONS } from './calls.constants';
import { CALLS_MODULE_OPTIONS, ConfigurableCallsModule } from './calls.module-definition';
import type { CallsModuleOptions, ResolvedCallsOptions } from './config/calls-options.interface';
import { resolveCallsOptions } from './config/calls-options.defaults';
import { DrainState } from './calls/drain-state';
import { DrainService } from './cluster/drain.service';
import { InstanceBus } from './cluster/instance-bus';
import { InstanceRegistry } from './cluster/instance-registry.service';
import { SessionControlService } from './cluster/session-control.service';
import { CallsHealthIndicator } from './health/calls-health.indicator';
import { CallsMetrics } from './metrics/calls-metrics.service';
import { WsMetricsInterceptor } from './gateway/ws-metrics.interceptor';
import { CallsIdCodec } from './identity/id-codec.interface';
import { SfuService } from './sfu/sfu.service';
import { MediaPipeService } from './cluster/media-pipe.service';
import { MediaPipeInstances } from './cluster/media-pipe-instances.service';
import { RoomPipesFactory } from './sfu/pipe/room-pipes-factory.interface';
import { CallMembershipService } from './calls/call-membership.service';
import { CallsBroadcaster } from './gateway/calls-broadcaster';
import { HostControlsService } from './calls/host-controls.service';
import { MediaEventsBridge } from './calls/media-events.bridge';
import { MediaPlane } from './media/media-plane.interface';
import { ParticipantActionsService } from './calls/participant-actions.service';
import { SessionBindings } from './calls/session-bindings';
import { SignalingGateway } from './gateway/signaling.gateway';
import {
  callStateRepositoryProvider,
  callsRedisClientProvider,
} from './state/call-state.providers';
import { CallStateRepository } from './state/call-state.repository';
import { ChannelSettingsStore } from './state/channel-settings.store';

/**
 * Group calls for a NestJS chat server, wire-compatible with Mattermost Calls clients.
 *
 * ```ts
 * CallsModule.forRoot({ stateBackend: 'redis', redisUrl: 'redis://redis:6379', identity, permissions })
 * // or, from the environment through @nestjs/config:
 * CallsModule.forRootAsync({ inject: [callsConfig.KEY], useFactory: (c) => ({ ...c, identity, permissions }) })
 * ```
 */
@Module({
  imports: [TerminusModule],
  controllers: [CallsController, HostControlsController],
  providers: [
    {
      provide: CALLS_OPTIONS,
      inject: [CALLS_MODULE_OPTIONS],
      useFactory: (options: CallsModuleOptions) => resolveCallsOptions(options),
    },
    {
      provide: CallsIdCodec,
      inject: [CALLS_OPTIONS],
      useFactory: (options: ResolvedCallsOptions) => options.idCodec,
    },
    callsRedisClientProvider,
    callStateRepositoryProvider,
    ChannelSettingsStore,
    CallsHealthIndicator,
    SfuService,
    { provide: MediaPlane, useExisting: SfuService },
    CallsBroadcaster,
    SessionBindings,
    CallMembershipService,
    ParticipantActionsService,
    HostControlsService,
    MediaEventsBridge,
    SignalingGateway,
    CallsMetrics,
    WsMetricsInterceptor,
    DrainState,
    InstanceBus,
    InstanceRegistry,
    DrainService,
    SessionControlService,
    MediaPipeService,
    { provide: RoomPipesFactory, useExisting: MediaPipeService },
    MediaPipeInstances,
  ],
  exports: [
    CALLS_OPTIONS,
    CallStateRepository,
    CallsHealthIndicator,
    CallsMetrics,
    SfuService,
    CallsIdCodec,
    InstanceRegistry,
    DrainState,
  ],
})
export class CallsModule extends ConfigurableCallsModule {}
