import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { RedisCommandDeadlines } from './redis-command-deadlines';
import { createRedis, describeRedis } from './redis-connection';

const CONNECT_WAIT_MS = 3000;

/**
 * The module's Redis connection (none with the memory backend). Commands fail at once while the
 * connection is down (no offline queue, no resend), which is what lets `auto` fall back without a
 * timeout and `redis` report a clear error; ioredis keeps reconnecting in the background. A
 * command unanswered after `redisCommandTimeoutMs` fails ({@link RedisCommandDeadlines}).
 */
export class CallsRedisClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CallsRedisClient.name);
  /** The ioredis client, or null with the memory backend. */
  readonly client: Redis | null;
  private up = false;
  private readonly deadlines: RedisCommandDeadlines | null = null;

  constructor(private readonly options: ResolvedCallsOptions) {
    if (options.stateBackend === 'memory') {
      this.client = null;
      return;
    }
    this.client = createRedis(options, {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(options.redisCommandTimeoutMs, 1000),
      connectionName: `calls:${options.instanceId}`,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    this.deadlines = new RedisCommandDeadlines(this.client, options.redisCommandTimeoutMs);
    this.client.on('ready', () => {
      if (!this.up) this.logger.log(`Redis connected [${this.where}]`);
      this.up = true;
    });
    this.client.on('close', () => {
      if (this.up) this.logger.warn(`Redis connection lost [${this.where}]`);
      this.up = false;
    });
    // Reconnection errors repeat every attempt; the transitions above are logged once each.
    this.client.on('error', (err: Error) => this.logger.debug(`Redis error: ${err.message}`));
  }

  /** Whether the connection is ready now (null with the memory backend). */
  get reachable(): boolean | null {
    return this.client ? this.client.status === 'ready' : null;
  }

  async onModuleInit(): Promise<void> {
    if (!this.client) return;
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    const waited = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), CONNECT_WAIT_MS).unref(),
    );
    if (!(await Promise.race([connected, waited]))) {
      this.logger.warn(
        `Redis not reachable at boot, retrying in the background [${this.where}, backend=${this.options.stateBackend}]`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    this.up = false;
    this.deadlines?.stop();
    if (this.client.status === 'ready')
      await this.client.quit().catch(() => this.client?.disconnect());
    else this.client.disconnect();
  }

  /** Where Redis is, for log lines (no password). */
  private get where(): string {
    return describeRedis(this.options);
  }
}
