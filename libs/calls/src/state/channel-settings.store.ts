import { Inject, Injectable, Logger } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { CallsRedisClient } from './calls-redis.client';
import { isRedisUnavailableError } from './redis-errors';
import { RedisKeys } from './redis-keys';

/**
 * Whether calls are enabled in a channel (Mattermost's `POST /{channel_id}`, admins only). Calls
 * are enabled unless disabled. Kept in the Redis hash `<prefix>channels` (field = channel id) with
 * the redis/auto backends, so every instance agrees; `auto` keeps working from memory while Redis
 * is away, like call state.
 */
@Injectable()
export class ChannelSettingsStore {
  private readonly logger = new Logger(ChannelSettingsStore.name);
  private readonly local = new Map<string, boolean>();

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
  ) {}

  private get key(): string {
    return this.keys.channelSettings();
  }

  async isEnabled(channelId: string): Promise<boolean> {
    const client = this.redis.client;
    if (client) {
      try {
        const value = await client.hget(this.key, channelId);
        if (value !== null) this.local.set(channelId, value === '1');
        else this.local.delete(channelId);
      } catch (err) {
        this.failed('isEnabled', err);
      }
    }
    return this.local.get(channelId) ?? true;
  }

  async setEnabled(channelId: string, enabled: boolean): Promise<void> {
    this.local.set(channelId, enabled);
    const client = this.redis.client;
    if (!client) return;
    try {
      await client.hset(this.key, channelId, enabled ? '1' : '0');
    } catch (err) {
      this.failed('setEnabled', err);
    }
  }

  private failed(operation: string, err: unknown): void {
    if (!isRedisUnavailableError(err)) throw err;
    if (this.options.stateBackend === 'redis') throw new CallStateUnavailableError(operation, err);
    this.logger.debug(`channel settings served from memory [operation=${operation}]`);
  }
}
