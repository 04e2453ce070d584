import type { StateBackendMode } from '../state/state-backend-mode';

/** Options of {@link CallsModule}. Every field is optional; defaults are given per field. */
export interface CallsModuleOptions {
  /**
   * Where call state lives: `memory` (one instance), `redis` (shared; operations fail while Redis
   * is down) or `auto` (Redis when it answers, local memory when it does not).
   * Env: `RUSTCHAT_CALLS_STATE_BACKEND`.
   * @default 'auto'
   */
  stateBackend?: StateBackendMode;
  /**
   * Redis connection URL for the `redis` and `auto` backends. Env: `RUSTCHAT_REDIS_URL`.
   * @default 'redis://127.0.0.1:6379'
   */
  redisUrl?: string;
  /**
   * Prefix of every Redis key; the default gives the seed's keys (`rustchat:calls:state:<id>`,
   * `rustchat:calls:channel:<id>`, `rustchat:calls:active`). Env: `RUSTCHAT_CALLS_REDIS_KEY_PREFIX`.
   * @default 'rustchat:calls:'
   */
  redisKeyPrefix?: string;
  /**
   * Time a Redis command may take before it counts as failed (ms).
   * Env: `RUSTCHAT_CALLS_REDIS_COMMAND_TIMEOUT_MS`.
   * @default 1000
   */
  redisCommandTimeoutMs?: number;
  /**
   * How often the `auto` backend probes Redis while it is away (ms).
   * Env: `RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS`.
   * @default 500
   */
  redisProbeIntervalMs?: number;
  /**
   * Compare-and-swap attempts before a state mutation gives up with `CallStateConflictError`.
   * @default 50
   */
  maxCasAttempts?: number;
  /**
   * This instance's id, recorded on the sessions it serves. Env: `RUSTCHAT_CALLS_INSTANCE_ID`.
   * @default `<hostname>-<pid>-<random>`
   */
  instanceId?: string;
}

/** {@link CallsModuleOptions} with every default applied. */
export type ResolvedCallsOptions = Required<CallsModuleOptions>;
