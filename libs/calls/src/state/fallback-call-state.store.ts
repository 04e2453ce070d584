import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CallStateUnavailableError } from '../errors/call-state-unavailable.error';
import { mergeCallState, restorableCall } from './call-state.merge';
import type { CallState } from './call-state.types';
import type { CallStateStore, CasResult, CreateResult } from './call-state-store.interface';
import { MemoryCallStateStore } from './memory-call-state.store';
import type { RedisCallStateStore } from './redis-call-state.store';

/** Tuning of the `auto` backend. */
export interface FallbackStoreOptions {
  /** This instance's id: sessions it serves are restored into Redis after an outage. */
  readonly instanceId: string;
  /** How often Redis is probed while it is away (ms). */
  readonly probeIntervalMs: number;
}

const MERGE_ATTEMPTS = 20;
const MERGE_PASSES = 10;

/**
 * The `auto` backend: Redis while it answers, process memory while it does not.
 *
 * - Everything read from or written to Redis is mirrored in memory, so a fallback continues from
 *   the last state this instance saw.
 * - After one failure (or the connection closing) operations go straight to memory, paying no
 *   connect timeout, until a background probe sees Redis answer again.
 * - Calls written locally during the outage are remembered with their state before the first local
 *   write. When Redis is back they are merged into it session by session under compare-and-swap
 *   (see {@link mergeCallState}); only then do operations return to Redis. The last merge pass
 *   holds new operations for a moment (bounded), so recovery finishes even under steady load.
 * - Channel settings follow the same switch, but one changed while Redis was away is not written
 *   back: what Redis holds wins again when it returns.
 * - A reply that Redis sends after the switch to memory (a stall: another command timed out
 *   first) does not overwrite what memory did since: a read is answered from memory, a write
 *   Redis applied late is carried into the local state (see {@link carryLateWrite}).
 * - One warning when Redis goes away, one log line when it is back.
 */
export class FallbackCallStateStore implements CallStateStore {
  private readonly logger = new Logger(FallbackCallStateStore.name);
  private readonly local = new MemoryCallStateStore();
  /** Calls written locally during the outage → their state before the first local write. */
  private readonly dirty = new Map<string, CallState | null>();
  private healthy = true;
  /** Times Redis was found gone: a Redis operation that saw it change answered late. */
  private outages = 0;
  private fallbackCount = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  /** While set, new operations wait for the end of a merge before choosing Redis or memory. */
  private barrier: Promise<void> | null = null;
  private closed = false;
  private readonly onClose = (): void => this.markDown('connection closed');

  constructor(
    private readonly remote: RedisCallStateStore,
    private readonly client: Redis,
    private readonly options: FallbackStoreOptions,
  ) {
    client.on('close', this.onClose);
  }

  /** True while operations are served by Redis. */
  get redisHealthy(): boolean {
    return this.healthy;
  }

  /** Operations served from memory because Redis did not answer. */
  get fallbacks(): number {
    return this.fallbackCount;
  }

  /** Calls waiting to be merged into Redis. */
  get pendingMerges(): number {
    return this.dirty.size;
  }

  get(callId: string): Promise<CallState | null> {
    return this.serve(
      () => this.remote.get(callId),
      () => this.local.get(callId),
      (call) => this.mirror(callId, call),
    );
  }

  getForUpdate(callId: string): Promise<CallState | null> {
    return this.serve(
      () => this.remote.getForUpdate(callId),
      () => this.local.getForUpdate(callId),
      (call) => this.mirror(callId, call),
    );
  }

  /**
   * Redis's cached state while Redis serves and no merge holds operations (every state Redis's
   * cache holds was mirrored here when it was read or written); else undefined.
   */
  peekForUpdate(callId: string): CallState | undefined {
    return this.healthy && !this.barrier ? this.remote.peekForUpdate(callId) : undefined;
  }

  findCallIdByChannel(channelId: string): Promise<string | null> {
    return this.serve(
      () => this.remote.findCallIdByChannel(channelId),
      () => this.local.findCallIdByChannel(channelId),
    );
  }

  listActive(): Promise<CallState[]> {
    return this.serve(
      () => this.remote.listActive(),
      () => this.local.listActive(),
      (calls) => calls.forEach((c) => this.mirror(c.id, c)),
    );
  }

  create(call: CallState): Promise<CreateResult> {
    const viaMemory = (): Promise<CreateResult> => {
      this.markDirty(call.id);
      return this.local.create(call);
    };
    return this.serve(
      () => this.remote.create(call),
      viaMemory,
      (result) => this.mirror(result.call.id, result.call),
      async (result) => {
        // A call Redis created late is taken here too, unless memory has one for the channel
        // (then memory answers; the two are merged when Redis is back).
        if (!result.created || (await this.local.findCallIdByChannel(call.channelId))) {
          return viaMemory();
        }
        this.local.put(result.call);
        return result;
      },
    );
  }

  compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult> {
    let sentToRedis = false;
    return this.serve(
      () => {
        sentToRedis = true;
        return this.remote.compareAndSet(expected, next);
      },
      () => {
        // Redis may have applied a write it failed to answer (a timeout, a connection lost).
        if (sentToRedis) this.redisMayHold(expected, next);
        // Only the very state memory holds matches: one read from Redis may carry the same
        // version number as a different state written here during the outage.
        const current = this.local.peek(expected.id);
        if (current && current !== expected)
          return Promise.resolve({ status: 'conflict', current });
        this.markDirty(expected.id);
        return this.local.compareAndSet(expected, next);
      },
      (result) => {
        if (result.status === 'ok') this.mirror(expected.id, next);
        else if (result.status === 'conflict') this.mirror(expected.id, result.current);
        else this.local.delete(expected.id);
      },
      (result) => {
        if (result.status === 'ok') this.carryLateWrite(expected, next);
        return Promise.resolve(result);
      },
    );
  }

  getChannelEnabled(channelId: string): Promise<boolean | null> {
    return this.serve(
      () => this.remote.getChannelEnabled(channelId),
      () => this.local.getChannelEnabled(channelId),
      (enabled) => this.local.putChannelEnabled(channelId, enabled),
    );
  }

  setChannelEnabled(channelId: string, enabled: boolean): Promise<void> {
    return this.serve(
      () => this.remote.setChannelEnabled(channelId, enabled),
      () => this.local.setChannelEnabled(channelId, enabled),
      () => this.local.putChannelEnabled(channelId, enabled),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.off('close', this.onClose);
    if (this.probeTimer) clearInterval(this.probeTimer);
    await this.local.close();
  }

  /**
   * Runs an operation on Redis while it serves (`mirror` then copies its result into memory), on
   * memory otherwise. When Redis answers after this store has switched to memory, `late` gets
   * the answer instead (by default the operation is answered from memory).
   */
  private async serve<T>(
    viaRedis: () => Promise<T>,
    viaMemory: () => Promise<T>,
    mirror?: (result: T) => void,
    late: (result: T) => Promise<T> = viaMemory,
  ): Promise<T> {
    if (this.barrier) await this.barrier;
    if (this.healthy) {
      const outages = this.outages;
      try {
        const result = await viaRedis();
        if (outages !== this.outages) return await late(result);
        mirror?.(result);
        return result;
      } catch (err) {
        if (!(err instanceof CallStateUnavailableError)) throw err;
        this.markDown(err.message);
      }
    }
    this.fallbackCount++;
    return viaMemory();
  }

  /**
   * Copies what Redis answered into memory. Never an older version over a newer one: the replies
   * of different operations can be handled out of order here (a read's continuation is a few
   * promise steps longer than a write's, so a read answered before a write may be mirrored after
   * it).
   */
  private mirror(callId: string, call: CallState | null): void {
    if (!call) {
      this.local.delete(callId);
      return;
    }
    const local = this.local.peek(call.id);
    if (!local || local.version <= call.version) this.local.put(call);
  }

  /**
   * Redis applied a compare-and-swap (`expected` → `next`) whose reply came after the switch to
   * memory. Memory takes the change too, so that what the caller was told is what memory serves:
   * as is when memory has not changed the call since, else applied onto what memory has (a plain
   * three-way merge); the call is then merged into Redis when it is back, like any local write.
   */
  private carryLateWrite(expected: CallState, next: CallState | null): void {
    const local = this.local.peek(expected.id);
    if (!local) return;
    if (!this.dirty.has(expected.id) && local.version === expected.version) {
      this.mirror(expected.id, next);
      return;
    }
    this.redisMayHold(expected, next);
    const merged = mergeCallState(expected, next, local, null);
    if (merged === local) return;
    if (merged) this.local.put({ ...merged, version: local.version + 1 });
    else this.local.delete(expected.id);
  }

  /**
   * Redis holds, or may hold, the write `expected` → `next` that memory did not take as such:
   * the call is merged into Redis when it is back from a base that includes that write, so that
   * a session it added and memory removed since is removed from Redis too, not left behind.
   */
  private redisMayHold(expected: CallState, next: CallState | null): void {
    this.markDirty(expected.id);
    const base = this.dirty.get(expected.id);
    if (!base || !next) return;
    const withWrite = mergeCallState(expected, next, base, null);
    if (withWrite) this.dirty.set(expected.id, withWrite);
  }

  /**
   * Takes what Redis now holds as the local state, unless the local state changed while the merge
   * awaited Redis: then the local change wins and stays dirty for the next merge pass.
   */
  private adopt(callId: string, mergedFrom: CallState | null, stored: CallState): boolean {
    if (this.local.peek(callId) !== mergedFrom) return false;
    if (stored.id !== callId) this.local.delete(callId);
    this.local.put(stored);
    return true;
  }

  private markDirty(callId: string): void {
    if (!this.dirty.has(callId)) this.dirty.set(callId, this.local.peek(callId));
  }

  private markDown(reason: string): void {
    if (!this.healthy || this.closed) return;
    this.healthy = false;
    this.outages++;
    this.remote.clearCache();
    this.logger.warn(`Redis unavailable, call state continues in local memory [reason=${reason}]`);
    this.probeTimer = setInterval(() => void this.probe(), this.options.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.healthy || this.closed || this.client.status !== 'ready') return;
    this.probing = true;
    let release = (): void => undefined;
    try {
      await this.client.ping();
      // First pass while operations keep going to memory; then a short pause of new operations
      // so the last writes are merged and the switch back to Redis cannot be starved by load.
      let merged = await this.mergeAll();
      this.barrier = new Promise<void>((resolve) => (release = resolve));
      setTimeout(() => release(), this.options.probeIntervalMs * 4).unref();
      merged += await this.mergeAll();
      if (this.dirty.size > 0) return;
      this.healthy = true;
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      this.logger.log(
        `Redis is back, call state served by Redis again [mergedCalls=${merged}, fallbacks=${this.fallbackCount}]`,
      );
    } catch (err) {
      this.logger.debug(`Redis probe failed: ${(err as Error).message}`);
    } finally {
      this.barrier = null;
      release();
      this.probing = false;
    }
  }

  /** Merges dirty calls and calls with sessions served here into Redis; returns how many. */
  private async mergeAll(): Promise<number> {
    let merged = 0;
    for (let pass = 0; pass < MERGE_PASSES; pass++) {
      const candidates = new Map(this.dirty);
      if (pass === 0) {
        // Redis may have restarted empty: also re-assert every call with sessions served here.
        for (const call of await this.local.listActive()) {
          const servesHere = Object.values(call.sessions).some(
            (s) => s.instanceId === this.options.instanceId,
          );
          if (servesHere && !candidates.has(call.id)) candidates.set(call.id, call);
        }
      }
      if (candidates.size === 0) break;
      for (const [callId, base] of candidates) {
        const local = this.local.peek(callId);
        const settled = await this.mergeOne(callId, base, local);
        // A write that landed while we awaited stays dirty, with what is now in Redis as its base.
        if (settled) this.dirty.delete(callId);
        else this.dirty.set(callId, local);
        merged++;
      }
    }
    return merged;
  }

  /**
   * Merges one call into Redis. Returns false when the local state changed while it awaited Redis
   * (that change is then merged in the next pass).
   */
  private async mergeOne(
    callId: string,
    base: CallState | null,
    local: CallState | null,
  ): Promise<boolean> {
    let target = callId;
    let mergeBase = base;
    let source = local;
    for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
      const remote = await this.remote.get(target);
      if (!remote) {
        const restore = restorableCall(mergeBase, source, this.options.instanceId);
        if (!restore) return this.local.peek(callId) === local;
        const created = await this.remote.create({ ...restore, version: 1 });
        if (created.created) return this.adopt(callId, local, created.call);
        // Another instance put this very call back meanwhile: merge into it as usual. (Taking
        // it for another call would drop the local mirror, and the next pass would then read
        // the call as ended here and remove every session it had.)
        if (created.call.id === target) continue;
        // The channel got another call meanwhile: move our sessions into it.
        this.logger.warn(
          `merging call into the channel's current call [callId=${callId}, into=${created.call.id}]`,
        );
        if (this.local.peek(callId) === local) this.local.delete(callId);
        target = created.call.id;
        mergeBase = null;
        source = restore;
        continue;
      }
      const merged = mergeCallState(mergeBase, source, remote, this.options.instanceId);
      if (merged === remote) return this.adopt(callId, local, remote);
      const next = merged ? { ...merged, version: remote.version + 1 } : null;
      const result = await this.remote.compareAndSet(remote, next);
      if (result.status === 'ok') {
        if (next) return this.adopt(callId, local, next);
        if (this.local.peek(callId) !== local) return false;
        this.local.delete(callId);
        return true;
      }
    }
    this.logger.error(`could not merge call after ${MERGE_ATTEMPTS} attempts [callId=${callId}]`);
    return false;
  }
}
