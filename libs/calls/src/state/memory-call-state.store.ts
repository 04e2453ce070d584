import type { CallState } from './call-state.types';
import type { CallStateStore, CasResult, CreateResult } from './call-state-store.interface';

/**
 * Process-local call state. States are immutable values (mutations build new objects), so they are
 * stored and handed out without copying.
 */
export class MemoryCallStateStore implements CallStateStore {
  private readonly calls = new Map<string, CallState>();
  private readonly byChannel = new Map<string, string>();
  private readonly channelEnabled = new Map<string, boolean>();

  get(callId: string): Promise<CallState | null> {
    return Promise.resolve(this.calls.get(callId) ?? null);
  }

  getForUpdate(callId: string): Promise<CallState | null> {
    return this.get(callId);
  }

  /**
   * Always undefined: a mutation reads through {@link getForUpdate}, asynchronous like every
   * operation here, so repositories sharing this store interleave (and conflict) as instances
   * sharing Redis do.
   */
  peekForUpdate(): CallState | undefined {
    return undefined;
  }

  findCallIdByChannel(channelId: string): Promise<string | null> {
    return Promise.resolve(this.byChannel.get(channelId) ?? null);
  }

  listActive(): Promise<CallState[]> {
    return Promise.resolve([...this.calls.values()]);
  }

  create(call: CallState): Promise<CreateResult> {
    const existingId = this.byChannel.get(call.channelId);
    const existing = existingId === undefined ? undefined : this.calls.get(existingId);
    if (existing) return Promise.resolve({ call: existing, created: false });
    this.put(call);
    return Promise.resolve({ call, created: true });
  }

  compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult> {
    const current = this.calls.get(expected.id);
    if (!current) return Promise.resolve({ status: 'missing' });
    if (current.version !== expected.version)
      return Promise.resolve({ status: 'conflict', current });
    if (next) this.put(next);
    else this.delete(expected.id);
    return Promise.resolve({ status: 'ok' });
  }

  getChannelEnabled(channelId: string): Promise<boolean | null> {
    return Promise.resolve(this.channelEnabled.get(channelId) ?? null);
  }

  setChannelEnabled(channelId: string, enabled: boolean): Promise<void> {
    this.putChannelEnabled(channelId, enabled);
    return Promise.resolve();
  }

  /** Stores a channel setting unconditionally, or forgets it with `null` (mirroring Redis). */
  putChannelEnabled(channelId: string, enabled: boolean | null): void {
    if (enabled === null) this.channelEnabled.delete(channelId);
    else this.channelEnabled.set(channelId, enabled);
  }

  /** The stored state, synchronously. */
  peek(callId: string): CallState | null {
    return this.calls.get(callId) ?? null;
  }

  /** Stores a state unconditionally (used to mirror what Redis holds). */
  put(call: CallState): void {
    const previous = this.calls.get(call.id);
    if (previous && previous.channelId !== call.channelId)
      this.byChannel.delete(previous.channelId);
    this.calls.set(call.id, call);
    this.byChannel.set(call.channelId, call.id);
  }

  /** Removes a call unconditionally. */
  delete(callId: string): void {
    const current = this.calls.get(callId);
    if (!current) return;
    this.calls.delete(callId);
    if (this.byChannel.get(current.channelId) === callId) this.byChannel.delete(current.channelId);
  }

  close(): Promise<void> {
    this.calls.clear();
    this.byChannel.clear();
    this.channelEnabled.clear();
    return Promise.resolve();
  }
}
