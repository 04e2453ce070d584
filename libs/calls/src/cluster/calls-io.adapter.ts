import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis, RedisOptions } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { createRedis, describeRedis } from '../state/redis-connection';
import { RedisKeys } from '../state/redis-keys';
import { coalesceWritesPerTick } from '../state/redis-write-coalescing';
import { pacedStreamReader } from './stream-reader';

/**
 * socket.io across instances through Redis streams, so channel broadcasts and `signal` to one
 * session reach sockets on any instance. Enabled when the state backend is `redis` or `auto`;
 * with `memory` it is a plain IoAdapter.
 *
 * While Redis is away, broadcasts are delivered to this instance's sockets only (publishing fails
 * fast instead of queueing stale events) and the stream readers wait for Redis to return, then
 * resume by themselves.
 *
 * ```ts
 * const adapter = new CallsIoAdapter(app);
 * await adapter.connect();
 * app.useWebSocketAdapter(adapter);
 * ```
 */
export class CallsIoAdapter extends IoAdapter {
  private readonly logger = new Logger(CallsIoAdapter.name);
  private readonly options: ResolvedCallsOptions;
  private publisher: Redis | null = null;
  private readonly readers: Redis[] = [];

  constructor(app: INestApplicationContext) {
    super(app);
    this.options = app.get<ResolvedCallsOptions>(CALLS_OPTIONS);
  }

  /** Whether broadcasts span instances (redis/auto backends). */
  get clustered(): boolean {
    return this.options.stateBackend !== 'memory';
  }

  /** Opens the Redis connections (no-op with the memory backend). */
  connect(): Promise<void> {
    if (!this.clustered || this.publisher) return Promise.resolve();
    const base: RedisOptions = {
      connectionName: `calls-io:${this.options.instanceId}`,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    };
    const readers = this.readers;
    // Publishing fails at once while Redis is down (local delivery still happens); the stream
    // readers and the pub/sub subscriber (made by duplicate()) wait for it instead of spinning.
    // The entries a broadcast of a batch publishes (one per event) leave in one write.
    const publisher = coalesceWritesPerTick(
      createRedis(this.options, {
        ...base,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      }),
    );
    publisher.duplicate = (): Redis => {
      const reader = pacedStreamReader(
        createRedis(this.options, {
          ...base,
          enableOfflineQueue: true,
          maxRetriesPerRequest: null,
        }),
      );
      reader.on('error', () => undefined);
      readers.push(reader);
      return reader;
    };
    publisher.on('error', (err: Error) =>
      this.logger.debug(`socket.io Redis error: ${err.message}`),
    );
    // The streams adapter sends ephemeral messages (serverSideEmit) with PUBLISH and drops the
    // promise: while Redis is away (offline queue off) its rejection went unhandled and ended the
    // process. A rejection is marked handled here; callers that await it still see it.
    const publish = publisher.publish.bind(publisher) as (...args: unknown[]) => Promise<number>;
    publisher.publish = (...args: unknown[]) => {
      const sent = publish(...args);
      sent.catch((err: Error) => this.logger.debug(`socket.io publish failed: ${err.message}`));
      return sent;
    };
    this.publisher = publisher;
    this.logger.log(
      `socket.io spans instances through Redis streams [${describeRedis(this.options)}]`,
    );
    return Promise.resolve();
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    if (this.publisher) {
      server.adapter(
        createAdapter(this.publisher, {
          streamName: new RedisKeys(this.options.redisKeyPrefix).socketIoStream(),
        }),
      );
    }
    return server;
  }

  /** Closes the socket.io server and the Redis connections. */
  override async close(server: Server): Promise<void> {
    await super.close(server);
    await this.dispose();
  }

  /** Closes the Redis connections. */
  override async dispose(): Promise<void> {
    // Readers may be blocked in XREAD: drop them rather than wait for the block to end.
    for (const reader of this.readers.splice(0)) reader.disconnect();
    const publisher = this.publisher;
    this.publisher = null;
    await publisher?.quit().catch(() => publisher.disconnect());
  }
}
