/** Where call state lives: process memory, Redis, or Redis with a per-operation memory fallback. */
export type StateBackendMode = 'memory' | 'redis' | 'auto';

/** All accepted values of `RUSTCHAT_CALLS_STATE_BACKEND`. */
export const STATE_BACKEND_MODES: readonly StateBackendMode[] = ['memory', 'redis', 'auto'];

/** The default backend when none is configured. */
export const DEFAULT_STATE_BACKEND_MODE: StateBackendMode = 'auto';

/**
 * Parses a configured backend name: surrounding whitespace is ignored, any letter case is
 * accepted, and an empty or missing value gives the default (`auto`).
 * @returns the mode, or `undefined` when the value names no mode (the caller reports it).
 */
export function parseStateBackendMode(
  raw: string | undefined | null,
): StateBackendMode | undefined {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '') return DEFAULT_STATE_BACKEND_MODE;
  return (STATE_BACKEND_MODES as readonly string[]).includes(value)
    ? (value as StateBackendMode)
    : undefined;
}

/** What the state backend is doing right now (for health and metrics). */
export type StateBackendCurrentMode = 'redis' | 'memory' | 'degraded';

/** Observable status of the state backend. */
export interface StateBackendStatus {
  /** The configured backend. */
  readonly backend: StateBackendMode;
  /** `memory` for the memory backend; for redis/auto, `redis` while Redis answers, else `degraded`. */
  readonly mode: StateBackendCurrentMode;
  /** Whether Redis answered the last operation or probe (`null` for the memory backend). */
  readonly redisReachable: boolean | null;
  /** Operations served from local memory because Redis did not answer (auto only). */
  readonly fallbacks: number;
  /** Calls written locally during an outage and not yet merged into Redis (auto only). */
  readonly pendingMerges: number;
  /** Compare-and-swap writes that lost a race and were retried (since boot). */
  readonly casConflicts: number;
}
