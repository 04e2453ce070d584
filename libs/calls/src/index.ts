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
} from './state/state-backend-mode';
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
