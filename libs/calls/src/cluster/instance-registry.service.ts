import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import { LocalSessions } from '../calls/local-sessions';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { CallsRedisClient } from '../state/calls-redis.client';
import { RedisKeys } from '../state/redis-keys';

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
}

/** The options this class reads. */
type InstanceRegistryOptions = Pick<
  ResolvedCallsOptions,
  'heartbeatIntervalMs' | 'instanceId' | 'instanceTtlMs'
>;

/**
 * Instance registry in Redis: every instance refreshes `<prefix>instance:<id>` (JSON, with a TTL)
 * and is listed in the set `<prefix>instances`. An instance whose key expired is dead: one
 * surviving instance (by a short Redis lock) removes its sessions from every call, with `user_left`
 * events. Every instance tells its listeners once about each instance it saw alive that is gone
 * (dead, or shut down), whichever instance reaped it (the media plane closes pipes to it).
 */
@Injectable()
export class InstanceRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceRegistry.name);
  private readonly listeners = new Set<(instanceId: string) => void>();
  /** Other instances seen alive and not reported gone since. */
  private readonly known = new Set<string>();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private address = '';
  private draining = false;
  private sweeping = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: InstanceRegistryOptions,
    private readonly redis: CallsRedisClient,
    private readonly keys: RedisKeys,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly membership: CallMembershipService,
    private readonly sessions: LocalSessions,
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
   * Calls `listener(instanceId)` once when another instance this one saw alive is gone (its
   * heartbeat expired, or it shut down). Returns an unsubscribe.
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
    this.timer = setInterval(() => {
      void this.heartbeat();
      void this.sweep();
    }, this.options.heartbeatIntervalMs);
    this.timer.unref();
    void this.heartbeat();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
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
    };
  }

  private async heartbeat(): Promise<void> {
    const client = this.redis.client;
    if (!client || client.status !== 'ready') return;
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

  /** Finds instances listed but no longer alive, and reaps them. */
  private async sweep(): Promise<void> {
    const client = this.redis.client;
    if (this.sweeping || !client || client.status !== 'ready') return;
    this.sweeping = true;
    try {
      const ids = (await client.smembers(this.keys.instances())).filter(
        (id) => id !== this.options.instanceId,
      );
      const alive =
        ids.length > 0 ? await client.mget(ids.map((id) => this.keys.instance(id))) : [];
      const aliveNow = new Set(ids.filter((_, i) => alive[i] !== null));
      // Gone: seen alive before, not now (another instance may have reaped it already).
      for (const id of [...this.known]) {
        if (aliveNow.has(id)) continue;
        this.known.delete(id);
        this.notifyGone(id);
      }
      for (const id of aliveNow) this.known.add(id);
      for (const [i, id] of ids.entries()) if (alive[i] === null) await this.reap(id);
    } catch (err) {
      this.logger.debug(`instance sweep failed: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
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
