/** Public API of the calls plugin (`@app/calls`). */
export { CallsModule } from './calls.module';
export { CALLS_OPTIONS } from './calls.constants';
export { CALLS_MODULE_OPTIONS } from './calls.module-definition';
export type { CallsModuleOptions, ResolvedCallsOptions } from './config/calls-options.interface';
export {
  callsConfig,
  callsOptionsFromEnv,
  validateCallsEnvironment,
  CALLS_ENV,
} from './config/calls-env';
export { CallStateRepository, InjectCallStateRepository } from './state/call-state.repository';
export type * from './state/call-state.types';
export {
  parseStateBackendMode,
  STATE_BACKEND_MODES,
  type StateBackendMode,
  type StateBackendStatus,
  type StateBackendCurrentMode,
} from './config/state-backend-mode';
export { DEFAULT_KEY_PREFIX } from './config/redis-key-prefix';
export { CallsHealthIndicator } from './health/calls-health.indicator';
export * from './errors';
export {
  CallsIdentity,
  InjectCallsIdentity,
  type CallsPrincipal,
  type HttpRequestInfo,
  type SocketHandshakeInfo,
} from './identity/calls-identity.interface';
export { CallsPermissions, InjectCallsPermissions } from './identity/calls-permissions.interface';
export { CallsIdCodec, InjectCallsIdCodec, PlainIdCodec } from './identity/id-codec.interface';
export { UuidMattermostIdCodec } from './identity/uuid-mattermost-id-codec';
export {
  MediaPlane,
  InjectMediaPlane,
  type MediaPlaneListener,
  type MediaSignal,
  type MediaSessionRef,
  type MediaSessionOptions,
  type MediaIceCandidate,
  type MediaSessionCloseReason,
  type MediaTrackType,
  type MediaTrack,
  type MediaSessionDirection,
  type MediaConsumerLabel,
  type MediaOfferTrack,
  type IceRestartInitiator,
  type MediaStats,
  type MediaWorkerUsage,
} from './media/media-plane.interface';
export { CallDelivery, InjectCallDelivery } from './calls/call-delivery.interface';
export type { CallEvent, CallEventType, EmojiData, SessionSubject } from './calls/call-events';
export type { SessionConnection, SessionPlace } from './calls/local-sessions';
export { CallAccessPolicy } from './calls/call-access.policy';
export {
  LiveKitTokens,
  mintLiveKitToken,
  LiveKitTokenError,
  type LiveKitApiKey,
  type LiveKitTokenRequest,
  type VerifiedLiveKitToken,
} from './protocol/livekit/livekit-tokens';
export type {
  LiveKitGrants,
  LiveKitGrantsInput,
  TrackSourceName,
} from './protocol/livekit/livekit-grants';
export {
  IDENTITY_SEPARATOR,
  parseIdentity,
  formatIdentity,
} from './protocol/livekit/livekit-identity';
export {
  LiveKitMedia,
  type LiveKitMediaSession,
  type LiveKitMediaEvents,
  type LiveKitMediaSessionRef,
} from './livekit/livekit-media-session.interface';
export { ClientAction, CALLS_EVENT_PREFIX } from './protocol/mattermost/calls-events';
export type { MattermostEnvelope } from './protocol/mattermost/mattermost-envelope';
export type { MattermostCallState, MattermostSession } from './protocol/mattermost/mattermost-wire';
export { CallsIoAdapter } from './cluster/calls-io.adapter';
export { InstanceRegistry, type InstanceInfo } from './cluster/instance-registry.service';
export { CallsMetrics } from './metrics/calls-metrics.service';
export { SfuService } from './sfu/sfu.service';
