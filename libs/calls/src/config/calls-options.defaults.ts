import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_KEY_PREFIX } from '../state/call-state.keys';
import { DEFAULT_STATE_BACKEND_MODE } from '../state/state-backend-mode';
import type { CallsModuleOptions, ResolvedCallsOptions } from './calls-options.interface';

/** A readable, unique-enough id for this process. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Applies the documented defaults. */
export function resolveCallsOptions(options: CallsModuleOptions): ResolvedCallsOptions {
  return {
    stateBackend: options.stateBackend ?? DEFAULT_STATE_BACKEND_MODE,
    redisUrl: options.redisUrl ?? 'redis://127.0.0.1:6379',
    redisKeyPrefix: options.redisKeyPrefix ?? DEFAULT_KEY_PREFIX,
    redisCommandTimeoutMs: options.redisCommandTimeoutMs ?? 1000,
    redisProbeIntervalMs: options.redisProbeIntervalMs ?? 500,
    maxCasAttempts: options.maxCasAttempts ?? 50,
    instanceId: options.instanceId ?? defaultInstanceId(),
  };
}
