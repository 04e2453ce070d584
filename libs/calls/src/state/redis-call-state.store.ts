import { Logger } from '@nestjs/common';
import type { Redis, Result } from 'ioredis';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { parseCallState, serializeCallState } from './call-state.codec';
import type { CallState } from './call-state.types';
import type { CallStateStore, CasResult, CreateResult } from './call-state-store.interface';
import { isRedisUnavailableError } from './redis-errors';
import { COMPARE_AND_SET_SCRIPT, CREATE_CALL_SCRIPT } from './redis-call-state.scripts';
import type { RedisKeys } from './redis-keys';

type ScriptReply = [number, string?];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    callsCreate(
      channelKey: string,
      stateKey: string,
      activeKey: string,
      callId: string,
      json: string,
      statePrefix: string,
    ): Result<ScriptReply, Context>;
    callsCompareAndSet(
      stateKey: string,
      channelKey: string,
      activeKey: string,
      expectedVersion: number,
      json: string,
      callId: string,
    ): Result<ScriptReply, Context>;
  }
}

/** Largest number of versions kept in the local read-for-update cache. */
const CACHE_LIMIT = 10_000;
const MGET_CHUNK = 500;

/**
 * Call state in Redis with the seed's data model: `state:<call_id>` (JSON), `channel:<channel_id>`
 * (call id) and `active` (set of call ids), all under one prefix, and channel settings in the hash
 * `channels` (see {@link RedisKeys}). Call state writes go through Lua scripts, so creation is
 * "one call per channel" and every update is a compare-and-swap on `version`. A conflict-free
 * mutation costs one round trip: the version to compare against comes from a local cache of what
 * this process last read or wrote.
 */
export class RedisCallStateStore implements CallStateStore {
  private readonly logger = new Logger(RedisCallStateStore.name);
  private readonly cache = new Map<string, CallState>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('callsCreate', { numberOfKeys: 3, lua: CREATE_CALL_SCRIPT });
    redis.defineCommand('callsCompareAndSet', { numberOfKeys: 3, lua: COMPARE_AND_SET_SCRIPT });
    // A Redis that comes back may have lost data or be another server (a failover): a version
    // cached from before could match a different state written since (ABA), so none is kept.
    redis.on('close', () => this.cache.clear());
    redis.on('ready', () => this.cache.clear());
  }

  async get(callId: string): Promise<CallState | null> {
    const key = this.keys.state(callId);
    const text = await this.run('get', () => this.redis.get(key));
    if (text === null) {
      this.cache.delete(callId);
      return null;
    }
    return this.remember(parseCallState(key, text));
  }

  async getForUpdate(callId: string): Promise<CallState | null> {
    return this.cache.get(callId) ?? this.get(callId);
  }

  async findCallIdByChannel(channelId: string): Promise<string | null> {
    return this.run('findCallIdByChannel', () => this.redis.get(this.keys.channel(channelId)));
  }

  async listActive(): Promise<CallState[]> {
    const ids = await this.run('listActive', () => this.redis.smembers(this.keys.active()));
    const calls: CallState[] = [];
    for (let i = 0; i < ids.length; i += MGET_CHUNK) {
      const chunk = ids.slice(i, i + MGET_CHUNK);
      const texts = await this.run('listActive', () =>
        this.redis.mget(chunk.map((id) => this.keys.state(id))),
      );
      texts.forEach((text, j) => {
        const key = this.keys.state(chunk[j]);
        if (text === null) return;
        try {
          calls.push(this.remember(parseCallState(key, text)));
        } catch (err) {
          if (!(err instanceof CorruptCallStateError)) throw err;
          this.logger.warn(`skipping malformed call state [key=${key}]: ${err.reason}`);
        }
      });
    }
    return calls;
  }

  async create(call: CallState): Promise<CreateResult> {
    const [created, existing] = await this.run('create', () =>
      this.redis.callsCreate(
        this.keys.channel(call.channelId),
        this.keys.state(call.id),
        this.keys.active(),
        call.id,
        serializeCallState(call),
        this.keys.state(''),
      ),
    );
    if (created === 1) return { call: this.remember(call), created: true };
    const current = parseCallState(this.keys.channel(call.channelId), existing ?? '');
    return { call: this.remember(current), created: false };
  }

  async compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult> {
    const callId = expected.id;
    const [status, current] = await this.run('compareAndSet', () =>
      this.redis.callsCompareAndSet(
        this.keys.state(callId),
        this.keys.channel(expected.channelId),
        this.keys.active(),
        expected.version,
        next ? serializeCallState(next) : '',
        callId,
      ),
    );
    if (status === 2) {
      if (next) this.remember(next);
      else this.cache.delete(callId);
      return { status: 'ok' };
    }
    if (status === 0) {
      this.cache.delete(callId);
      return { status: 'missing' };
    }
    return {
      status: 'conflict',
      current: this.remember(parseCallState(this.keys.state(callId), current ?? '')),
    };
  }

  async getChannelEnabled(channelId: string): Promise<boolean | null> {
    const value = await this.run('getChannelEnabled', () =>
      this.redis.hget(this.keys.channelSettings(), channelId),
    );
    return value === null ? null : value === '1';
  }

  async setChannelEnabled(channelId: string, enabled: boolean): Promise<void> {
    await this.run('setChannelEnabled', () =>
      this.redis.hset(this.keys.channelSettings(), channelId, enabled ? '1' : '0'),
    );
  }

  /** Forgets cached versions (e.g. after Redis lost its data). */
  clearCache(): void {
    this.cache.clear();
  }

  close(): Promise<void> {
    this.cache.clear();
    return Promise.resolve();
  }

  /**
   * Holds the commands issued in this tick in the socket and sends them with one write at the end
   * of the tick. Under concurrency the replies that arrive together free their callers in the same
   * tick, so their next commands leave together too: one system call instead of one per command.
   */
  private coalesceWrites(): void {
    const stream = this.redis.stream;
    if (!stream || stream.writableCorked > 0) return;
    stream.cork();
    process.nextTick(() => stream.uncork());
  }

  private remember(call: CallState): CallState {
    if (this.cache.size >= CACHE_LIMIT && !this.cache.has(call.id)) this.cache.clear();
    this.cache.set(call.id, call);
    return call;
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.coalesceWrites();
    try {
      return await fn();
    } catch (err) {
      if (isRedisUnavailableError(err)) throw new CallStateUnavailableError(operation, err);
      throw err;
    }
  }
}
