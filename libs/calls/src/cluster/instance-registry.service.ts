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
import { CallMembershipService } from '../calls/call-membership.service';
import { LocalSessions } from '../calls/local-sessions';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { CallsRedisClient } from '../state/calls-redis.client';
import { RedisKeys } from '../state/redis-keys';
import { InstanceBus } from './instance-bus';
import { InstanceMessage } from './instance-bus.messages';
import { RedisContinuity } from './redis-continuity.service';

/** What an instance announces about itself. */
export interface InstanceInfo {
  readonly id: string;
  /** Address other instances use to pipe media to this one (host or IP). */
  readonly address: string;
  /** Sessions it serves. */
  readonly sessions: number;
  readonly startedAt: number;
  /** True while it shuts down and accepts no joins. */
  readonly draining: boolean;
  /**
   * Random id of the process, new at every start: an instance restarted with the same id is
   * told apart by it (absent in announcements of older versions).
   */
  readonly bootId?: string;
}

/** The options this class reads. */
type InstanceRegistryOptions = Pick<
  ResolvedCallsOptions,
  'heartbeatIntervalMs' | 'instanceId' | 'instanceTtlMs'
>;

/** Longest wait for a silent instance to answer a ping before it is taken for dead (ms). */
const PING_TIMEOUT_MS = 1000;

/**
 * Instance registry in Redis: every instance refreshes `<prefix>instance:<id>` (JSON, with a TTL)
 * and is listed in the set `<prefix>instances`.
 *
 * An instance is taken for dead on evidence, not on a missing key alone: its key expired, it had
 * a full TTL since Redis last came back (a restart, empty or not, or a failover: see
 * {@link RedisContinuity}) to announce itself again, and it does not answer a ping over the
 * instance bus. Then one surviving instance (by a short Redis lock) removes its sessions from
 * every call, with `user_left` events, and every instance tells its listeners once about each
 * instance it saw alive that is gone (dead, or shut down), whichever instance reaped it (the media
 * plane closes pipes to it). An instance seen with a new boot id restarted under the same id: its
 * old incarnation is reported gone the same way.
 */
@Injectable()
export class InstanceRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceRegistry.name);
  private readonly listeners = new Set<(instanceId: string) => void>();
  /** Other instances seen alive and not reported gone since, with their boot id. */
  private readonly known = new Map<string, string | undefined>();
  private readonly startedAt = Date.now();
  private readonly bootId = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | null = null;
  private address = '';
  private draining = false;
  private stopped = false;
  private sweeping = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: InstanceRegistryOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly membership: CallMembershipService,
    private readonly sessions: LocalSessions,
    private readonly bus: InstanceBus,
    private readonly continuity: RedisContinuity,
  ) {}

  /** Sets the address other instances pipe media to. */
  setAddress(address: string): void {
    this.address = address;
  }

  /** Marks this instance as draining (announced at the next heartbeat, and now). */
  setDraining(draining: boolean): void {
    this.draining = draining;
    void this.heartbeat();
  }

  /**
   * Calls `listener(instanceId)` once when another instance this one saw alive is gone (it died,
   * shut down, or restarted under the same id). Returns an unsubscribe.
   */
  onInstanceDead(listener: (instanceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The live instances (including this one). */
  async live(): Promise<InstanceInfo[]> {
    const client = this.redis.client;
    if (!client) return [this.info()];
    const ids = await client.smembers(this.keys.instances());
    if (ids.length === 0) return [];
    const values = await client.mget(ids.map((id) => this.keys.instance(id)));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as InstanceInfo);
  }

  onModuleInit(): void {
    if (!this.redis.client) return;
    this.bus.handle(InstanceMessage.ping, () => {
      if (this.stopped) return Promise.reject(new Error('shutting down'));
      return Promise.resolve({ bootId: this.bootId });
    });
    // Back from an outage (or a failover, or an empty restart): announce at once.
    this.unsubscribe = this.continuity.onRestored(() => void this.heartbeat());
    this.timer = setInterval(() => {
      void this.heartbeat();
      void this.sweep();
    }, this.options.heartbeatIntervalMs);
    this.timer.unref();
    void this.heartbeat();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    const client = this.redis.client;
    if (client?.status === 'ready') {
      await client
        .multi()
        .del(this.keys.instance(this.options.instanceId))
        .srem(this.keys.instances(), this.options.instanceId)
        .exec()
        .catch(() => undefined);
    }
  }

  private info(): InstanceInfo {
    return {
      id: this.options.instanceId,
      address: this.address,
      sessions: this.sessions.size,
      startedAt: this.startedAt,
      draining: this.draining,
      bootId: this.bootId,
    };
  }

  private async heartbeat(): Promise<void> {
    const client = this.redis.client;
    if (this.stopped || !client || client.status !== 'ready') return;
    await client
      .multi()
      .set(
        this.keys.instance(this.options.instanceId),
        JSON.stringify(this.info()),
        'PX',
        this.options.instanceTtlMs,
      )
      .sadd(this.keys.instances(), this.options.instanceId)
      .exec()
      .catch(() => undefined);
  }

  /** Checks every instance listed or known: restarted ones are reported, dead ones reaped. */
  private async sweep(): Promise<void> {
    const client = this.redis.client;
    if (this.sweeping || !client || client.status !== 'ready') return;
    this.sweeping = true;
    try {
      const listed = await client.smembers(this.keys.instances());
      // Known instances too: a Redis that lost its data no longer lists them.
      const ids = [...new Set([...listed, ...this.known.keys()])].filter(
        (id) => id !== this.options.instanceId,
      );
      const values =
        ids.length > 0 ? await client.mget(ids.map((id) => this.keys.instance(id))) : [];
      const silent: string[] = [];
      for (const [i, id] of ids.entries()) {
        const value = values[i];
        if (value === null || value === undefined) silent.push(id);
        else this.seen(id, parseBootId(value));
      }
      if (silent.length === 0) return;
      // Keys lost with Redis's data say nothing: everyone gets a full TTL to announce itself.
      if (Date.now() - this.continuity.since < this.options.instanceTtlMs) return;
      const answers = await Promise.all(silent.map((id) => this.ping(id)));
      for (const [i, id] of silent.entries()) {
        const bootId = answers[i];
        if (bootId !== null) {
          this.seen(id, bootId);
          continue;
        }
        if (this.known.delete(id)) this.notifyGone(id);
        await this.reap(id);
      }
    } catch (err) {
      this.logger.debug(`instance sweep failed: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** An instance is alive with this boot id: a new one means it restarted under the same id. */
  private seen(id: string, bootId: string | undefined): void {
    const before = this.known.get(id);
    if (before !== undefined && bootId !== undefined && before !== bootId) {
      this.logger.warn(`instance restarted under the same id [instanceId=${id}]`);
      this.notifyGone(id);
    }
    this.known.set(id, bootId ?? before);
  }

  /** The boot id of a silent instance that answers over the bus, or null. */
  private async ping(id: string): Promise<string | null> {
    try {
      const timeout = Math.min(PING_TIMEOUT_MS, this.options.instanceTtlMs);
      const { bootId } = await this.bus.request(id, InstanceMessage.ping, {}, timeout);
      this.logger.debug(`instance key missing but it answers [instanceId=${id}]`);
      return bootId;
    } catch {
      return null;
    }
  }

  private notifyGone(instanceId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(instanceId);
      } catch (err) {
        this.logger.error(`instance-gone listener threw: ${(err as Error).message}`);
      }
    }
  }

  private async reap(deadId: string): Promise<void> {
    const client = this.redis.client!;
    const lock = await client.set(
      this.keys.reap(deadId),
      this.options.instanceId,
      'PX',
      30_000,
      'NX',
    );
    if (lock !== 'OK') return;
    let removed = 0;
    for (const call of await this.state.listActiveCalls()) {
      for (const session of Object.values(call.sessions)) {
        if (session.instanceId !== deadId) continue;
        await this.membership.removeFromState(
          call.id,
          session.sessionId,
          `instance ${deadId} died`,
        );
        removed++;
      }
    }
    await client.srem(this.keys.instances(), deadId);
    this.logger.warn(
      `instance dead, its sessions removed [instanceId=${deadId}, sessions=${removed}]`,
    );
  }
}

/** The boot id in an instance's announcement (undefined if absent or unreadable). */
function parseBootId(json: string): string | undefined {
  try {
    const info = JSON.parse(json) as Partial<InstanceInfo>;
    return typeof info.bootId === 'string' ? info.bootId : undefined;
  } catch {
    return undefined;
  }
}
