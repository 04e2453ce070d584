import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis, Result } from 'ioredis';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { parseCallState, serializeCallState } from './call-state.codec';
import type { CallState } from './call-state.types';
import type { CallStateStore, CasResult, CreateResult } from './call-state-store.interface';
import { isRedisUnavailableError } from './redis-errors';
import {
  COMPARE_AND_SET_SCRIPT,
  CREATE_CALL_SCRIPT,
  END_CALL_SCRIPT,
  versionHead,
} from './redis-call-state.scripts';
import type { RedisKeys } from './redis-keys';
import { corkUntilNextTick } from './redis-write-coalescing';

const COMPARE_AND_SET_SHA = createHash('sha1').update(COMPARE_AND_SET_SCRIPT).digest('hex');

type ScriptReply = [number, string?];
/** One key's outcome of a compare-and-swap script: 1 done, 0 missing, the stored JSON, or its error. */
type CasReply = number | string | Error;

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
    callsEndCall(
      stateKey: string,
      channelKey: string,
      activeKey: string,
      expectedHead: string,
      callId: string,
    ): Result<CasReply, Context>;
  }
}

/** Largest number of versions kept in the local read-for-update cache. */
const CACHE_LIMIT = 10_000;
const MGET_CHUNK = 500;
/**
 * Most writes sent in one compare-and-swap script run. A run leaves as soon as it is full, so
 * Redis works on it while this process prepares the next one; the rest leave at the end of the
 * tick.
 */
const MAX_WRITES_PER_RUN = 16;

/** A compare-and-swap waiting to go with the others issued in the same tick. */
interface PendingWrite {
  readonly key: string;
  readonly head: string;
  readonly json: string;
  readonly next: CallState;
  readonly resolve: (result: CasResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Call state in Redis with the seed's data model: `state:<call_id>` (JSON), `channel:<channel_id>`
 * (call id) and `active` (set of call ids), all under one prefix, and channel settings in the hash
 * `channels` (see {@link RedisKeys}). Call state writes go through Lua scripts, so creation is
 * "one call per channel" and every update is a compare-and-swap on `version`. A conflict-free
 * mutation costs one round trip: the version to compare against comes from a local cache of what
 * this process last read or wrote, and a conflict returns the stored state, so the retry needs no
 * read either. The updates issued in one tick (of different calls) go as one script run: Redis
 * runs Lua once for them, and this process sends and parses one command.
 */
export class RedisCallStateStore implements CallStateStore {
  private readonly logger = new Logger(RedisCallStateStore.name);
  private readonly cache = new Map<string, CallState>();
  private writes: PendingWrite[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('callsCreate', { numberOfKeys: 3, lua: CREATE_CALL_SCRIPT });
    redis.defineCommand('callsEndCall', { numberOfKeys: 3, lua: END_CALL_SCRIPT });
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

  peekForUpdate(callId: string): CallState | undefined {
    return this.cache.get(callId);
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

  compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult> {
    if (next === null) return this.endCall(expected);
    return new Promise((resolve, reject) => {
      if (this.writes.length === 0) process.nextTick(this.flushWrites);
      else if (this.writes.length >= MAX_WRITES_PER_RUN) this.flushWrites();
      this.writes.push({
        key: this.keys.state(expected.id),
        head: versionHead(expected.version),
        json: serializeCallState(next),
        next,
        resolve,
        reject,
      });
    });
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

  private async endCall(expected: CallState): Promise<CasResult> {
    const key = this.keys.state(expected.id);
    const reply = await this.run('compareAndSet', () =>
      this.redis.callsEndCall(
        key,
        this.keys.channel(expected.channelId),
        this.keys.active(),
        versionHead(expected.version),
        expected.id,
      ),
    );
    const result = this.casResult(expected.id, key, reply);
    if (result.status === 'ok') this.cache.delete(expected.id);
    return result;
  }

  /** Sends the waiting writes as one script run. */
  private readonly flushWrites = (): void => {
    const writes = this.writes;
    if (writes.length === 0) return;
    this.writes = [];
    void this.sendWrites(writes);
  };

  private async sendWrites(writes: PendingWrite[]): Promise<void> {
    const n = writes.length;
    const args = new Array<string>(3 * n);
    for (let i = 0; i < n; i++) {
      const w = writes[i];
      args[i] = w.key;
      args[n + i] = w.head;
      args[2 * n + i] = w.json;
    }
    let replies: CasReply[];
    try {
      // By the script's hash; by its text when Redis does not have it (which loads it). A plain
      // EVALSHA rather than an ioredis `defineCommand`, whose wrapper (a command subclass, a
      // closure and a promise per call) took ~3 % of a write's time in a profile at one client.
      let reply: unknown;
      try {
        reply = await this.redis.evalsha(COMPARE_AND_SET_SHA, n, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        reply = await this.redis.eval(COMPARE_AND_SET_SCRIPT, n, ...args);
      }
      replies = n === 1 ? [reply as CasReply] : (reply as CasReply[]);
    } catch (err) {
      const error = this.translate('compareAndSet', err);
      for (const w of writes) w.reject(error);
      return;
    }
    for (let i = 0; i < n; i++) {
      const w = writes[i];
      try {
        const result = this.casResult(w.next.id, w.key, replies[i]);
        if (result.status === 'ok') this.remember(w.next);
        w.resolve(result);
      } catch (err) {
        w.reject(err);
      }
    }
  }

  /** Reads one key's reply of a compare-and-swap script; the cache follows a miss or a conflict. */
  private casResult(callId: string, key: string, reply: CasReply): CasResult {
    if (reply === 1) return { status: 'ok' };
    if (reply === 0) {
      this.cache.delete(callId);
      return { status: 'missing' };
    }
    if (reply instanceof Error) throw reply;
    return { status: 'conflict', current: this.remember(parseCallState(key, String(reply))) };
  }

  private remember(call: CallState): CallState {
    if (this.cache.size >= CACHE_LIMIT && !this.cache.has(call.id)) this.cache.clear();
    this.cache.set(call.id, call);
    return call;
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    corkUntilNextTick(this.redis);
    try {
      return await fn();
    } catch (err) {
      throw this.translate(operation, err);
    }
  }

  private translate(operation: string, err: unknown): unknown {
    return isRedisUnavailableError(err) ? new CallStateUnavailableError(operation, err) : err;
  }
}
