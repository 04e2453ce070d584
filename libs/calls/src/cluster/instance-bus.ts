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
import {
  type BusEnvelope,
  type BusMessageType,
  type BusReplyEnvelope,
  type BusRequest,
  type BusRequestEnvelope,
  type BusResponse,
  parseBusEnvelope,
  parseBusRequest,
  parseBusResponse,
} from './instance-bus.messages';

/** A handler of requests of one type; its result is the response. */
export type BusHandler<K extends BusMessageType> = (
  payload: BusRequest<K>,
  from: string,
) => Promise<BusResponse<K>>;

/** A handler with its request parser applied: what the bus calls with a raw payload. */
type RawHandler = (payload: unknown, from: string) => Promise<unknown>;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The options this class reads. */
type InstanceBusOptions = Pick<ResolvedCallsOptions, 'instanceId'>;

/**
 * Request/response between instances over Redis pub/sub, with timeouts: each instance listens on
 * `<prefix>bus:<instanceId>`. Used by the media plane to ask another instance for a pipe, and by
 * host controls to reach a session served elsewhere. Inactive with the memory backend.
 *
 * Messages are typed by `BusMessageMap` (instance-bus.messages.ts): every request payload a
 * handler receives and every response a requester gets has been checked by its type's parser. A
 * malformed request is answered with an error and a malformed message is dropped (logged): nothing
 * another instance sends can throw here.
 */
@Injectable()
export class InstanceBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceBus.name);
  private readonly handlers = new Map<string, RawHandler>();
  private readonly pending = new Map<string, Pending>();
  private subscriber: Redis | null = null;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: InstanceBusOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Whether other instances can be reached at all (redis/auto backends). */
  get enabled(): boolean {
    return this.redis.client !== null;
  }

  /** Registers the handler of a request type (its payload is parsed before it is called). */
  handle<K extends BusMessageType>(type: K, handler: BusHandler<K>): void {
    this.handlers.set(type, (payload, from) => {
      let request: BusRequest<K>;
      try {
        request = parseBusRequest(type, payload);
      } catch (err) {
        throw new Error(`invalid ${type} request: ${(err as Error).message}`);
      }
      return handler(request, from);
    });
  }

  /**
   * Sends a request to one instance and waits for its response.
   * @throws InstanceUnreachableError on timeout, when Redis is away, when the handler failed, or
   *   when the response is malformed
   */
  async request<K extends BusMessageType>(
    instanceId: string,
    type: K,
    payload: BusRequest<K>,
    timeoutMs = 3000,
  ): Promise<BusResponse<K>> {
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
    const message: BusRequestEnvelope = { id, from: this.options.instanceId, type, payload };
    try {
      const receivers = await client.publish(this.keys.bus(instanceId), JSON.stringify(message));
      if (receivers === 0) throw new Error('nobody listens');
    } catch (err) {
      const pending = this.pending.get(id);
      if (pending) clearTimeout(pending.timer);
      this.pending.delete(id);
      throw new InstanceUnreachableError(instanceId, (err as Error).message);
    }
    const body = await response;
    try {
      return parseBusResponse(type, body);
    } catch (err) {
      throw new InstanceUnreachableError(
        instanceId,
        `malformed ${type} response: ${(err as Error).message}`,
      );
    }
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
    let message: BusEnvelope;
    try {
      message = parseBusEnvelope(text);
    } catch (err) {
      this.logger.debug(`malformed bus message dropped: ${(err as Error).message}`);
      return;
    }
    if (message.replyTo !== undefined) return this.onReply(message);
    const handler = this.handlers.get(message.type);
    let reply: BusReplyEnvelope;
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

  private onReply(message: BusReplyEnvelope): void {
    const pending = this.pending.get(message.replyTo);
    if (!pending) return;
    this.pending.delete(message.replyTo);
    clearTimeout(pending.timer);
    if (message.error !== undefined) {
      pending.reject(new InstanceUnreachableError(message.from, message.error));
    } else pending.resolve(message.payload);
  }
}
