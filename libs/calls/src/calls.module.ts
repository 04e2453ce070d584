import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CallsController } from './api/calls.controller';
import { HostControlsController } from './api/host-controls.controller';
import { LiveKitTokenController } from './api/livekit-token.controller';
import { CallDelivery } from './calls/call-delivery.interface';
import { DrainState } from './calls/drain-state';
import { AnnouncementBatchingDelivery } from './calls/announcement-batching.delivery';
import { FanOutCallDelivery } from './calls/fan-out.delivery';
import { CALLS_OPTIONS } from './calls.constants';
import { CORE_PROVIDERS } from './calls-core.providers';
import { CALLS_MODULE_OPTIONS, ConfigurableCallsModule } from './calls.module-definition';
import type { CallsModuleOptions, ResolvedCallsOptions } from './config/calls-options.interface';
import { resolveCallsOptions } from './config/calls-options.defaults';
import { InstanceRegistry } from './cluster/instance-registry.service';
import { MediaPipeService } from './cluster/media-pipe.service';
import { MediaPipeInstances } from './cluster/media-pipe-instances.service';
import { SignalingGateway } from './gateway/signaling.gateway';
import { SocketIoDelivery } from './gateway/socket-io.delivery';
import { SocketIoInstanceRelay } from './gateway/socket-io-instance.relay';
import { WsMessageMetrics } from './gateway/ws-message-metrics';
import { CallsHealthIndicator } from './health/calls-health.indicator';
import { CallsIdentity } from './identity/calls-identity.interface';
import { CallsPermissions } from './identity/calls-permissions.interface';
import { CallsIdCodec } from './identity/id-codec.interface';
import { InstanceRelay } from './livekit/instance-relay.interface';
import { LiveKitAdmission } from './livekit/livekit-admission';
import { LiveKitJoinService } from './livekit/livekit-join.service';
import { LiveKitDataRouter } from './livekit/livekit-data.router';
import { LiveKitMediaLink } from './livekit/livekit-media.link';
import { LiveKitMedia } from './livekit/livekit-media-session.interface';
import { LiveKitMediaService } from './livekit/livekit-media.service';
import { LiveKitCameras } from './livekit/livekit-camera';
import { LiveKitScreenShare } from './livekit/livekit-screen-share';
import { LiveKitSessions } from './livekit/livekit-sessions';
import { LiveKitSignalHandler } from './livekit/livekit-signal.handler';
import { LiveKitSwitch } from './livekit/livekit-switch';
import { LiveKitTokenRefresher } from './livekit/livekit-token.refresher';
import { LiveKitTrackMirror } from './livekit/livekit-track.mirror';
import { LiveKitDelivery } from './livekit/livekit.delivery';
import { LiveKitEndpoint } from './livekit/livekit.endpoint';
import { MediaPlane } from './media/media-plane.interface';
import { CallsMetrics } from './metrics/calls-metrics.service';
import { LiveKitTokens } from './protocol/livekit/livekit-tokens';
import { MattermostWire } from './protocol/mattermost/mattermost-wire';
import { RoomPipesFactory } from './sfu/pipe/room-pipes-factory.interface';
import { SfuService } from './sfu/sfu.service';
import {
  callStateRepositoryProvider,
  callsRedisClientProvider,
  redisKeysProvider,
  servedCallSnapshotsProvider,
} from './state/call-state.providers';
import { CallStateRepository } from './state/call-state.repository';
import { ChannelSettingsStore } from './state/channel-settings.store';

/** The host app's seams, provided from the options (so `@InjectCallsPermissions()` works). */
const seamProviders = [
  {
    provide: CallsIdentity,
    inject: [CALLS_OPTIONS],
    useFactory: (o: ResolvedCallsOptions): CallsIdentity => o.identity,
  },
  {
    provide: CallsPermissions,
    inject: [CALLS_OPTIONS],
    useFactory: (o: ResolvedCallsOptions): CallsPermissions => o.permissions,
  },
  {
    provide: CallsIdCodec,
    inject: [CALLS_OPTIONS],
    useFactory: (o: ResolvedCallsOptions): CallsIdCodec => o.idCodec,
  },
];

/**
 * The LiveKit transport (livekit/): its endpoint, joins, requests, delivery and media (each
 * participant's two connections on the media port). Its tokens are made from the options.
 */
const liveKitProviders = [
  {
    provide: LiveKitTokens,
    inject: [CALLS_OPTIONS],
    useFactory: (o: ResolvedCallsOptions) => new LiveKitTokens(o.livekitKeys),
  },
  LiveKitSwitch,
  LiveKitSessions,
  LiveKitDelivery,
  LiveKitAdmission,
  LiveKitSignalHandler,
  LiveKitTrackMirror,
  LiveKitMediaService,
  { provide: LiveKitMedia, useExisting: LiveKitMediaService },
  LiveKitDataRouter,
  LiveKitScreenShare,
  LiveKitCameras,
  LiveKitMediaLink,
  LiveKitTokenRefresher,
  LiveKitJoinService,
  LiveKitEndpoint,
  SocketIoInstanceRelay,
  { provide: InstanceRelay, useExisting: SocketIoInstanceRelay },
];

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
  // The token routes first: CallsController's `GET|POST :channel_id` would match them.
  controllers: [LiveKitTokenController, CallsController, HostControlsController],
  providers: [
    {
      provide: CALLS_OPTIONS,
      inject: [CALLS_MODULE_OPTIONS],
      useFactory: (options: CallsModuleOptions) => resolveCallsOptions(options),
    },
    ...seamProviders,
    callsRedisClientProvider,
    redisKeysProvider,
    servedCallSnapshotsProvider,
    callStateRepositoryProvider,
    ChannelSettingsStore,
    CallsHealthIndicator,
    SfuService,
    { provide: MediaPlane, useExisting: SfuService },
    CallsMetrics,
    MattermostWire,
    SocketIoDelivery,
    // Before MediaEventsBridge: LiveKitMediaService must hear of a failed media session first.
    ...liveKitProviders,
    // Every event reaches both protocols, each in its own terms; joins and leaves in batches.
    {
      provide: CallDelivery,
      inject: [SocketIoDelivery, LiveKitDelivery, CALLS_OPTIONS],
      useFactory: (
        socketIo: SocketIoDelivery,
        liveKit: LiveKitDelivery,
        options: ResolvedCallsOptions,
      ): CallDelivery =>
        new AnnouncementBatchingDelivery(
          new FanOutCallDelivery([socketIo, liveKit]),
          options.announceWindowMs,
        ),
    },
    ...CORE_PROVIDERS,
    SignalingGateway,
    WsMessageMetrics,
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
    CallsIdentity,
    CallsPermissions,
    CallsIdCodec,
    InstanceRegistry,
    DrainState,
    LiveKitTokens,
  ],
})
export class CallsModule extends ConfigurableCallsModule {}
