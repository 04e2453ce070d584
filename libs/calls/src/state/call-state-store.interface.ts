import type { CallState } from './call-state.types';

/** Outcome of a compare-and-swap write. */
export type CasResult =
  | { readonly status: 'ok' }
  /** Someone else wrote first; `current` is what is stored now. */
  | { readonly status: 'conflict'; readonly current: CallState }
  /** The call no longer exists. */
  | { readonly status: 'missing' };

/** Outcome of creating a call in a channel. */
export interface CreateResult {
  /** The call now active in the channel: the new one, or the one that was already there. */
  readonly call: CallState;
  readonly created: boolean;
}

/**
 * The storage primitives a backend provides. Every call state write is conditional, so the
 * repository on top gets atomic read-modify-write without locks; channel settings are plain
 * values. Internal: the public seam is CallStateRepository.
 */
export interface CallStateStore {
  /** Reads a call fresh from the backend. */
  get(callId: string): Promise<CallState | null>;
  /**
   * Reads a call for a mutation. May answer from a local cache of the last version this process
   * saw: a stale answer only costs a CAS conflict, which returns the fresh state.
   */
  getForUpdate(callId: string): Promise<CallState | null>;
  /**
   * What {@link getForUpdate} would answer when the store has it at hand without I/O (its cache
   * of the last version this process saw), else undefined. Saves a mutation an asynchronous step.
   */
  peekForUpdate(callId: string): CallState | undefined;
  /** Id of the channel's active call. */
  findCallIdByChannel(channelId: string): Promise<string | null>;
  /** All active calls (malformed entries are skipped and logged). */
  listActive(): Promise<CallState[]>;
  /** Creates the call unless the channel already has an active one (which is returned). */
  create(call: CallState): Promise<CreateResult>;
  /**
   * Replaces `expected` if its version is still the stored one. `next === null` ends the call:
   * its state, channel lookup and active-set entry are removed together.
   */
  compareAndSet(expected: CallState, next: CallState | null): Promise<CasResult>;
  /** Whether calls are enabled in a channel; null when it was never set. */
  getChannelEnabled(channelId: string): Promise<boolean | null>;
  /** Enables or disables calls in a channel (last write wins). */
  setChannelEnabled(channelId: string, enabled: boolean): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
