import type { Provider } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallStateRepository } from './call-state.repository';
import type { CallStateStore } from './call-state-store.interface';
import { CallsRedisClient } from './calls-redis.client';
import { FallbackCallStateStore } from './fallback-call-state.store';
import { MemoryCallStateStore } from './memory-call-state.store';
import { RedisCallStateStore } from './redis-call-state.store';
import { RedisKeys } from './redis-keys';
import { ServedCallSnapshots } from './served-call-snapshots';
import { SnapshottingCallStateStore } from './snapshotting-call-state.store';
import type { StateBackendStatus } from '../config/state-backend-mode';
import { VersionedCallStateRepository } from './versioned-call-state.repository';
import { UnknownStateBackendError } from '../errors/unknown-state-backend.error';

/** A repository and how to tell its status. */
interface Backend {
  readonly store: CallStateStore;
  readonly status: () => Omit<StateBackendStatus, 'casConflicts'>;
}

function createBackend(
  options: ResolvedCallsOptions,
  redis: CallsRedisClient,
  keys: RedisKeys,
  snapshots: ServedCallSnapshots,
): Backend {
  const mode = options.stateBackend;
  switch (mode) {
    case 'memory':
      return {
        store: new MemoryCallStateStore(),
        status: () => ({
          backend: mode,
          mode: 'memory',
          redisReachable: null,
          fallbacks: 0,
          pendingMerges: 0,
        }),
      };
    case 'redis': {
      // What this instance saw of the calls it serves: written back if Redis loses them (the
      // auto backend restores them from its memory mirror instead).
      const store = new SnapshottingCallStateStore(
        new RedisCallStateStore(redis.client!, keys),
        snapshots,
      );
      return {
        store,
        status: () => ({
          backend: mode,
          mode: redis.reachable ? 'redis' : 'degraded',
          redisReachable: redis.reachable,
          fallbacks: 0,
          pendingMerges: 0,
        }),
      };
    }
    case 'auto': {
      const remote = new RedisCallStateStore(redis.client!, keys);
      const store = new FallbackCallStateStore(remote, redis.client!, {
        instanceId: options.instanceId,
        probeIntervalMs: options.redisProbeIntervalMs,
      });
      return {
        store,
        status: () => ({
          backend: mode,
          mode: store.redisHealthy ? 'redis' : 'degraded',
          redisReachable: redis.reachable,
          fallbacks: store.fallbacks,
          pendingMerges: store.pendingMerges,
        }),
      };
    }
    default:
      throw new UnknownStateBackendError(String(mode));
  }
}

/** Repository that closes its store when the application shuts down. */
class ManagedCallStateRepository extends VersionedCallStateRepository {
  constructor(
    private readonly backend: Backend,
    options: ResolvedCallsOptions,
  ) {
    super(backend.store, backend.status, { maxCasAttempts: options.maxCasAttempts });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backend.store.close();
  }
}

/** The one place the state backend is chosen, from the resolved options. */
export const callStateRepositoryProvider: Provider = {
  provide: CallStateRepository,
  inject: [CALLS_OPTIONS, CallsRedisClient, RedisKeys, ServedCallSnapshots],
  useFactory: (
    options: ResolvedCallsOptions,
    redis: CallsRedisClient,
    keys: RedisKeys,
    snapshots: ServedCallSnapshots,
  ): CallStateRepository =>
    new ManagedCallStateRepository(createBackend(options, redis, keys, snapshots), options),
};

/** What this instance last saw of the calls it serves (recorded with the `redis` backend). */
export const servedCallSnapshotsProvider: Provider = {
  provide: ServedCallSnapshots,
  inject: [CALLS_OPTIONS],
  useFactory: (options: ResolvedCallsOptions) => new ServedCallSnapshots(options.instanceId),
};

/** The Redis connection, created from the resolved options. */
export const callsRedisClientProvider: Provider = {
  provide: CallsRedisClient,
  inject: [CALLS_OPTIONS],
  useFactory: (options: ResolvedCallsOptions) => new CallsRedisClient(options),
};

/** The names of every Redis key and channel, under the configured prefix. */
export const redisKeysProvider: Provider = {
  provide: RedisKeys,
  inject: [CALLS_OPTIONS],
  useFactory: (options: ResolvedCallsOptions) => new RedisKeys(options.redisKeyPrefix),
};
