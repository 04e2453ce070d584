import type { CallState } from './call-state.types';
import type { CallStateStore, CasResult, CreateResult } from './call-state-store.interface';
import type { ServedCallSnapshots } from './served-call-snapshots';

/**
 * A {@link CallStateStore} that records every state it reads or writes in
 * {@link ServedCallSnapshots} (and forgets a call it ends), around another store. Nothing else
 * changes: results and errors pass through.
 */
export class SnapshottingCallStateStore implements CallStateStore {
  constructor(
    private readonly inner: CallStateStore,
    private readonly snapshots: ServedCallSnapshots,
  ) {}

  async get(callId: string): Promise<CallState | null> {
    return this.seen(await this.inner.get(callId));
  }

  async getForUpdate(callId: string): Promise<CallState | null> {
    return this.seen(await this.inner.getForUpdate(callId));
  }

  /** A cached state was recorded when it was read or written: nothing to record again. */
  peekForUpdate(callId: string): CallState | undefined {
    return this.inner.peekForUpdate(callId);
  }

  findCallIdByChannel(channelId: string): Promise<string | null> {
    return this.inner.findCallIdByChannel(channelId);
  }

  async listActive(): Promise<CallState[]> {
    const calls = await this.inner.listActive();
    for (const call of calls) this.snapshots.record(call);
    return calls;
  }

  async create(call: CallState): Promise<CreateResult> {
    const result = await this.inner.create(call);
    this.snapshots.record(result.call);
    return result;
  }

  async compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult> {
    const result = await this.inner.compareAndSet(expected, next);
    if (result.status === 'ok') {
      if (next) this.snapshots.record(next);
      else this.snapshots.forget(expected.id);
    } else if (result.status === 'conflict') this.snapshots.record(result.current);
    return result;
  }

  getChannelEnabled(channelId: string): Promise<boolean | null> {
    return this.inner.getChannelEnabled(channelId);
  }

  setChannelEnabled(channelId: string, enabled: boolean): Promise<void> {
    return this.inner.setChannelEnabled(channelId, enabled);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private seen(call: CallState | null): CallState | null {
    if (call) this.snapshots.record(call);
    return call;
  }
}
