import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsRedisClient } from '../state/calls-redis.client';
import { RedisKeys } from '../state/redis-keys';

/** Why Redis counts as (back) here: see {@link RedisContinuity.onRestored}. */
export type RedisRestoredReason = 'connected' | 'reconnected' | 'data-lost';

/** The options this class reads. */
type ContinuityOptions = Pick<ResolvedCallsOptions, 'heartbeatIntervalMs'>;

/**
 * Tells when Redis came back, and whether it may have lost data: the first connection
 * (`connected`), every reconnection after the connection was lost (`reconnected`: a restart, a
 * failover, a network cut; the data may be gone or older) and a change of `<prefix>epoch` (a
 * random value set by the first instance that finds it missing; another value than the one seen
 * before means Redis restarted empty or was flushed: `data-lost`), checked every heartbeat.
 *
 * {@link since} is when that last happened: liveness that Redis keys show (instance heartbeats)
 * counts only from then on, since keys that were lost say nothing about who is alive.
 */
@Injectable()
export class RedisContinuity implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisContinuity.name);
  private readonly listeners = new Set<(reason: RedisRestoredReason) => void>();
  private sinceMs = Date.now();
  private everReady = false;
  private epoch: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly onReady = (): void => this.ready();

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ContinuityOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** When Redis last came back (or lost its data), as seen here (ms since epoch). */
  get since(): number {
    return this.sinceMs;
  }

  /** Calls `listener(reason)` every time Redis comes back. Returns an unsubscribe. */
  onRestored(listener: (reason: RedisRestoredReason) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onModuleInit(): void {
    const client = this.redis.client;
    if (!client) return;
    client.on('ready', this.onReady);
    // Connected before this listener was added: that was the first connection.
    if (client.status === 'ready') this.ready();
    this.timer = setInterval(() => void this.checkEpoch(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.redis.client?.off('ready', this.onReady);
  }

  private ready(): void {
    const reason: RedisRestoredReason = this.everReady ? 'reconnected' : 'connected';
    this.everReady = true;
    this.sinceMs = Date.now();
    if (reason === 'reconnected')
      this.logger.log('Redis reconnected: announcing this instance again');
    this.emit(reason);
    void this.checkEpoch();
  }

  /** Reads the epoch (setting it when missing); a new one means Redis lost its data. */
  private async checkEpoch(): Promise<void> {
    const client = this.redis.client;
    if (!client || client.status !== 'ready') return;
    const key = this.keys.epoch();
    let value: string | null;
    try {
      const replies = await client.multi().set(key, randomUUID(), 'NX').get(key).exec();
      value = (replies?.[1]?.[1] as string | null | undefined) ?? null;
    } catch {
      return;
    }
    if (value === null || value === this.epoch) return;
    const before = this.epoch;
    this.epoch = value;
    if (before === null) return;
    this.sinceMs = Date.now();
    this.logger.warn('Redis lost its data (new epoch): instances rebuild what they hold');
    this.emit('data-lost');
  }

  private emit(reason: RedisRestoredReason): void {
    for (const listener of this.listeners) {
      try {
        listener(reason);
      } catch (err) {
        this.logger.error(`Redis-restored listener threw: ${(err as Error).message}`);
      }
    }
  }
}
