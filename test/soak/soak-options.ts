import { randomInt } from 'node:crypto';
import { FAULT_KINDS, type FaultKind } from './faults';

/** The soak's settings (from the environment, see {@link soakOptionsFromEnv}). */
export interface SoakOptions {
  /** How long faults are injected. */
  readonly minutes: number;
  /** Seed of the random choices (faults, their targets and durations, intervals). */
  readonly seed: number;
  /** Interval between two faults, drawn uniformly from [min, max] seconds. */
  readonly intervalS: readonly [number, number];
  readonly calls: number;
  readonly peersPerCall: number;
  readonly instances: number;
  readonly backend: 'redis' | 'auto';
  /** The faults drawn from. */
  readonly faults: readonly FaultKind[];
  /** Where the instances' logs go. */
  readonly logDir: string;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name}=${raw}: expected a number > 0`);
  return value;
}

/**
 * `SOAK_MINUTES` (10), `SOAK_SEED` (random), `SOAK_INTERVAL_S` (`20-40`), `SOAK_CALLS` (3),
 * `SOAK_PEERS_PER_CALL` (4), `SOAK_INSTANCES` (3), `SOAK_STATE_BACKEND` (`auto`), `SOAK_FAULTS`
 * (comma separated, default all), `SOAK_LOG_DIR` (`test-artifacts/soak`).
 * @throws naming the variable, when one is not valid
 */
export function soakOptionsFromEnv(env: NodeJS.ProcessEnv): SoakOptions {
  const interval = (env.SOAK_INTERVAL_S ?? '20-40').split('-').map((v) => Number(v.trim()));
  const [min, max = min] = interval;
  if (!(min > 0 && max >= min) || interval.length > 2) {
    throw new Error(`SOAK_INTERVAL_S=${env.SOAK_INTERVAL_S}: expected <min>-<max> seconds`);
  }
  const faults = (env.SOAK_FAULTS ?? FAULT_KINDS.join(','))
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = faults.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
  if (unknown.length > 0 || faults.length === 0) {
    throw new Error(`SOAK_FAULTS: unknown ${unknown.join(',')}; known: ${FAULT_KINDS.join(', ')}`);
  }
  const backend = (env.SOAK_STATE_BACKEND ?? 'auto').trim().toLowerCase();
  if (backend !== 'redis' && backend !== 'auto') {
    throw new Error(`SOAK_STATE_BACKEND=${backend}: expected redis or auto`);
  }
  const peersPerCall = number(env, 'SOAK_PEERS_PER_CALL', 4);
  if (peersPerCall < 2 || peersPerCall > 7) throw new Error('SOAK_PEERS_PER_CALL: 2 to 7');
  return {
    minutes: number(env, 'SOAK_MINUTES', 10),
    seed: env.SOAK_SEED ? number(env, 'SOAK_SEED', 1) : randomInt(1, 2 ** 31),
    intervalS: [min, max],
    calls: number(env, 'SOAK_CALLS', 3),
    peersPerCall,
    instances: number(env, 'SOAK_INSTANCES', 3),
    backend,
    faults: faults as FaultKind[],
    logDir: env.SOAK_LOG_DIR ?? 'test-artifacts/soak',
  };
}
