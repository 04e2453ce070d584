import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsRedisClient } from '../state/calls-redis.client';
import { RedisKeys } from '../state/redis-keys';
import { InstanceUnreachableError } from '../errors/instance-unreachable.error';

/** A handler of requests of one type; its result is the response. */
export type BusHandler = (payload: unknown, from: string) => Promise<unknown>;

interface Envelope {
  readonly id: string;
  readonly from: string;
  readonly type?: string;
  readonly payload?: unknown;
  /** Set on responses: the request id answered. */
  readonly replyTo?: string;
  readonly error?: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Request/response between instances over Redis pub/sub, with timeouts: each instance listens on
 * `<prefix>bus:<instanceId>`. Used by the media plane to ask another instance for a pipe, and by
 * host controls to reach a session served elsewhere. Inactive with the memory backend.
 */
@Injectable()
export class InstanceBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceBus.name);
  private readonly handlers = new Map<string, BusHandler>();
  private readonly pending = new Map<string, Pending>();
  private subscriber: Redis | null = null;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Whether other instances can be reached at all (redis/auto backends). */
  get enabled(): boolean {
    return this.redis.client !== null;
  }

  /** Registers the handler of a request type. */
  handle(type: string, handler: BusHandler): void {
    this.handlers.set(type, handler);
  }

  /**
   * Sends a request to one instance and waits for its response.
   * @throws InstanceUnreachableError on timeout, when Redis is away, or when the handler failed
   */
  async request<T>(
    instanceId: string,
    type: string,
    payload: unknown,
    timeoutMs = 3000,
  ): Promise<T> {
    const client = this.redis.client;
    if (!client) throw new InstanceUnreachableError(instanceId, 'no Redis (memory backend)');
    const id = randomUUID();
    const response = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new InstanceUnreachableError(instanceId, `no answer to ${type} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const message: Envelope = { id, from: this.options.instanceId, type, payload };
    try {
      const receivers = await client.publish(this.keys.bus(instanceId), JSON.stringify(message));
      if (receivers === 0) throw new Error('nobody listens');
    } catch (err) {
      const pending = this.pending.get(id);
      if (pending) clearTimeout(pending.timer);
      this.pending.delete(id);
      throw new InstanceUnreachableError(instanceId, (err as Error).message);
    }
    return (await response) as T;
  }

  onModuleInit(): void {
    if (!this.redis.client) return;
    this.subscriber = this.redis.client.duplicate({
      enableOfflineQueue: true,
      lazyConnect: false,
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('error', (err: Error) =>
      this.logger.debug(`bus subscriber error: ${err.message}`),
    );
    this.subscriber.on('message', (_channel: string, text: string) => void this.onMessage(text));
    // Resolves once subscribed; while Redis is away it stays queued and ioredis resubscribes later.
    void this.subscriber.subscribe(this.keys.bus(this.options.instanceId)).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new InstanceUnreachableError('*', 'shutting down'));
    }
    this.pending.clear();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    this.subscriber = null;
  }

  private async onMessage(text: string): Promise<void> {
    let message: Envelope;
    try {
      message = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (message.replyTo) {
      const pending = this.pending.get(message.replyTo);
      if (!pending) return;
      this.pending.delete(message.replyTo);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new InstanceUnreachableError(message.from, message.error));
      else pending.resolve(message.payload);
      return;
    }
    const handler = message.type ? this.handlers.get(message.type) : undefined;
    let reply: Envelope;
    try {
      if (!handler) throw new Error(`no handler for ${message.type}`);
      reply = {
        id: randomUUID(),
        from: this.options.instanceId,
        replyTo: message.id,
        payload: await handler(message.payload, message.from),
      };
    } catch (err) {
      reply = {
        id: randomUUID(),
        from: this.options.instanceId,
        replyTo: message.id,
        error: (err as Error).message,
      };
    }
    await this.redis.client
      ?.publish(this.keys.bus(message.from), JSON.stringify(reply))
      .catch(() => undefined);
  }
}
