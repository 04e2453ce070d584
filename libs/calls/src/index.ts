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
export { DEFAULT_KEY_PREFIX } from './state/call-state.keys';
export { CallsHealthIndicator } from './health/calls-health.indicator';
export { CallsError } from './errors/calls.error';
export { CallNotFoundError } from './errors/call-not-found.error';
export { SessionNotFoundError } from './errors/session-not-found.error';
export { CallStateConflictError } from './errors/call-state-conflict.error';
export { CallStateUnavailableError } from './errors/call-state-unavailable.error';
export { CorruptCallStateError } from './errors/corrupt-call-state.error';
export { InvalidCallStateInputError } from './errors/invalid-call-state-input.error';
export { InvalidCallsConfigError } from './errors/invalid-calls-config.error';
export { UnknownStateBackendError } from './errors/unknown-state-backend.error';
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
  type IceRestartInitiator,
} from './media/media-plane.interface';
export { ClientAction, CALLS_EVENT_PREFIX } from './protocol/mattermost/calls-events';
export type { MattermostEnvelope } from './gateway/calls-broadcaster';
export type { MattermostCallState, MattermostSession } from './protocol/mattermost/mattermost-wire';
export { ForbiddenError } from './errors/forbidden.error';
export { UnauthenticatedError } from './errors/unauthenticated.error';
export { CallFullError } from './errors/call-full.error';
export { InvalidMessageError } from './errors/invalid-message.error';
export { MessageTooLargeError } from './errors/message-too-large.error';
export { RateLimitedError } from './errors/rate-limited.error';
export { NotInCallError } from './errors/not-in-call.error';
export { AlreadyInCallError } from './errors/already-in-call.error';
export { ScreenShareUnavailableError } from './errors/screen-share-unavailable.error';
export { CallsIoAdapter } from './cluster/calls-io.adapter';
export { InstanceRegistry, type InstanceInfo } from './cluster/instance-registry.service';
export { CallsMetrics } from './metrics/calls-metrics.service';
export { SfuService } from './sfu/sfu.service';
export { DrainingError } from './errors/draining.error';
export { InstanceUnreachableError } from './errors/instance-unreachable.error';
export type { SfuStats } from './sfu/sfu.types';
export { InvalidSdpError } from './errors/invalid-sdp.error';
export { SdpTooLargeError } from './errors/sdp-too-large.error';
export { NoCommonCodecError } from './errors/no-common-codec.error';
export { InvalidIceCandidateError } from './errors/invalid-ice-candidate.error';
export { UnexpectedSdpAnswerError } from './errors/unexpected-sdp-answer.error';
export { SfuSessionNotFoundError } from './errors/sfu-session-not-found.error';
export { SfuSessionExistsError } from './errors/sfu-session-exists.error';
export { SfuUnavailableError } from './errors/sfu-unavailable.error';
