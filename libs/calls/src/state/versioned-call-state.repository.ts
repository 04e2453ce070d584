import { setTimeout as sleep } from 'node:timers/promises';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { CallFullError } from '../errors/call-full.error';
import { CallStateConflictError } from '../errors/call-state-conflict.error';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { assertValidId } from './call-state.codec';
import * as mutations from './call-state.mutations';
import { restoredCall, restoreSessions } from './call-state.restore';
import type { CallStateRepository } from './call-state.repository';
import type {
  CallSessionPatch,
  CallSessionState,
  CallState,
  CallStateMutator,
  JoinCallResult,
  RemoveSessionResult,
  RestoreSessionsResult,
  ScreenShareStop,
  VideoChange,
  StartCallInput,
  StartCallResult,
} from './call-state.types';
import type { CallStateStore } from './call-state-store.interface';
import type { StateBackendStatus } from '../config/state-backend-mode';

/** Tuning of the repository. */
export interface RepositoryOptions {
  /** Compare-and-swap attempts before a mutation fails with CallStateConflictError. */
  readonly maxCasAttempts: number;
  /** Clock (ms); injectable for tests. */
  readonly now?: () => number;
}

interface Pending {
  readonly mutator: CallStateMutator;
  /** Fails with CallNotFoundError instead of answering null when the call ended. */
  readonly mustExist: boolean;
  readonly resolve: (call: CallState | null) => void;
  readonly reject: (err: unknown) => void;
}

/** Mutations of one call waiting in this process; they are committed together. */
interface CallQueue {
  running: boolean;
  waiting: Pending[];
}

const MAX_BATCH = 256;
const JOIN_ATTEMPTS = 10;

/**
 * The one {@link CallStateRepository} implementation; backends differ only in their
 * {@link CallStateStore}.
 *
 * Mutations of the same call made in this process are queued and committed together (group
 * commit): while one compare-and-swap is in flight, the next mutations wait and then go as one
 * write. So a storm of joins on one instance costs few round trips and never conflicts with
 * itself; conflicts can only come from other instances, and are retried with the fresh state the
 * failed compare-and-swap returned.
 */
export class VersionedCallStateRepository implements CallStateRepository {
  private readonly queues = new Map<string, CallQueue>();
  private readonly now: () => number;
  private conflicts = 0;

  constructor(
    private readonly store: CallStateStore,
    private readonly statusSource: () => Omit<StateBackendStatus, 'casConflicts'>,
    private readonly options: RepositoryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async startCall(input: StartCallInput): Promise<StartCallResult> {
    this.assertStartInput(input);
    return this.store.create(mutations.createCallState(input, this.now()));
  }

  async joinCall(
    input: StartCallInput,
    session: CallSessionState,
    options: { maxSessions?: number } = {},
  ): Promise<JoinCallResult> {
    const max = options.maxSessions ?? 0;
    this.assertStartInput(input);
    this.assertSession(session);
    for (let attempt = 1; attempt <= JOIN_ATTEMPTS; attempt++) {
      const fresh = mutations.addSession(mutations.createCallState(input, this.now()), session);
      const { call, created } = await this.store.create(fresh);
      if (created) return { call, created };
      try {
        const joined = await this.mustUpdate(call.id, (c) => {
          const count = Object.keys(c.sessions).length;
          if (max > 0 && count >= max && !c.sessions[session.sessionId])
            throw new CallFullError(max);
          return mutations.addSession(c, session);
        });
        return { call: joined, created: false };
      } catch (err) {
        // The call ended between the lookup and the add: start or join the next one.
        if (!(err instanceof CallNotFoundError)) throw err;
      }
    }
    throw new CallStateConflictError(`channel:${input.channelId}`, JOIN_ATTEMPTS);
  }

  async getCall(callId: string): Promise<CallState | null> {
    assertValidId('callId', callId);
    return this.store.get(callId);
  }

  async getCallByChannel(channelId: string): Promise<CallState | null> {
    assertValidId('channelId', channelId);
    const callId = await this.store.findCallIdByChannel(channelId);
    return callId === null ? null : this.store.get(callId);
  }

  listActiveCalls(): Promise<CallState[]> {
    return this.store.listActive();
  }

  async addSession(callId: string, session: CallSessionState): Promise<CallState> {
    this.assertSession(session);
    return this.mustUpdate(callId, (c) => mutations.addSession(c, session));
  }

  updateSession(callId: string, sessionId: string, patch: CallSessionPatch): Promise<CallState> {
    assertValidId('sessionId', sessionId);
    if (patch.instanceId !== undefined) assertValidId('instanceId', patch.instanceId);
    return this.mustUpdate(callId, (c) => mutations.patchSession(c, sessionId, patch));
  }

  async removeSession(callId: string, sessionId: string): Promise<RemoveSessionResult> {
    assertValidId('sessionId', sessionId);
    let previous: CallState | null = null;
    try {
      const call = await this.update(callId, (c) => {
        previous = c;
        return mutations.removeSession(c, sessionId);
      });
      const before = previous as CallState | null;
      return { call, previous: before, removed: before?.sessions[sessionId] ?? null };
    } catch (err) {
      if (err instanceof CallNotFoundError) return { call: null, previous: null, removed: null };
      throw err;
    }
  }

  setHost(callId: string, userId: string, options: { lock?: boolean } = {}): Promise<CallState> {
    assertValidId('userId', userId);
    return this.mustUpdate(callId, (c) => mutations.setHost(c, userId, options.lock ?? false));
  }

  setScreenSharer(callId: string, sessionId: string): Promise<CallState> {
    assertValidId('sessionId', sessionId);
    return this.mustUpdate(callId, (c) => mutations.setScreenSharer(c, sessionId, this.now()));
  }

  async clearScreenSharer(callId: string, sessionId: string): Promise<ScreenShareStop> {
    assertValidId('sessionId', sessionId);
    let stopped = false;
    const call = await this.mustUpdate(callId, (c) => {
      const next = mutations.clearScreenSharer(c, sessionId);
      stopped = next !== c;
      return next;
    });
    return { call, stopped };
  }

  async setVideo(
    callId: string,
    sessionId: string,
    on: boolean,
    options: { maxCameras?: number } = {},
  ): Promise<VideoChange> {
    assertValidId('sessionId', sessionId);
    let changed = false;
    const call = await this.mustUpdate(callId, (c) => {
      const next = mutations.setVideo(c, sessionId, on, options.maxCameras ?? 0);
      changed = next !== c;
      return next;
    });
    return { call, changed };
  }

  setRaisedHand(callId: string, sessionId: string, raised: boolean): Promise<CallState> {
    assertValidId('sessionId', sessionId);
    return this.mustUpdate(callId, (c) => {
      const current = c.sessions[sessionId]?.raisedHand ?? 0;
      const raisedHand = raised ? current || this.now() : 0;
      return mutations.patchSession(c, sessionId, { raisedHand });
    });
  }

  setMuted(callId: string, sessionId: string, muted: boolean): Promise<CallState> {
    return this.updateSession(callId, sessionId, { unmuted: !muted });
  }

  dismissNotification(callId: string, userId: string): Promise<CallState> {
    assertValidId('userId', userId);
    return this.mustUpdate(callId, (c) => mutations.dismissNotification(c, userId));
  }

  async restoreSessions(
    snapshot: CallState,
    sessions: readonly CallSessionState[],
  ): Promise<RestoreSessionsResult> {
    assertValidId('callId', snapshot.id);
    assertValidId('channelId', snapshot.channelId);
    sessions.forEach((s) => this.assertSession(s));
    for (let attempt = 1; attempt <= JOIN_ATTEMPTS; attempt++) {
      const { call, created } = await this.store.create(restoredCall(snapshot, sessions));
      if (created) return { call, created, restored: sessions.length };
      if (call.id !== snapshot.id) return { call, created: false, restored: 0 };
      let restored = 0;
      try {
        const next = await this.mustUpdate(call.id, (c) => {
          restored = sessions.filter(
            (s) => c.sessions[s.sessionId]?.instanceId !== s.instanceId,
          ).length;
          return restoreSessions(c, snapshot, sessions);
        });
        return { call: next, created: false, restored };
      } catch (err) {
        // The call ended between the lookup and the update: create it again.
        if (!(err instanceof CallNotFoundError)) throw err;
      }
    }
    throw new CallStateConflictError(`channel:${snapshot.channelId}`, JOIN_ATTEMPTS);
  }

  async endCall(callId: string): Promise<boolean> {
    try {
      await this.update(callId, () => null);
      return true;
    } catch (err) {
      if (err instanceof CallNotFoundError) return false;
      throw err;
    }
  }

  update(callId: string, mutator: CallStateMutator): Promise<CallState | null> {
    return this.enqueue(callId, mutator, false);
  }

  async isChannelEnabled(channelId: string): Promise<boolean> {
    assertValidId('channelId', channelId);
    return (await this.store.getChannelEnabled(channelId)) ?? true;
  }

  async setChannelEnabled(channelId: string, enabled: boolean): Promise<void> {
    assertValidId('channelId', channelId);
    await this.store.setChannelEnabled(channelId, enabled);
  }

  status(): StateBackendStatus {
    return { ...this.statusSource(), casConflicts: this.conflicts };
  }

  /** {@link update} with a mutator that never ends the call: null means it ended under us. */
  private mustUpdate(callId: string, mutator: CallStateMutator): Promise<CallState> {
    return this.enqueue(callId, mutator, true) as Promise<CallState>;
  }

  private enqueue(
    callId: string,
    mutator: CallStateMutator,
    mustExist: boolean,
  ): Promise<CallState | null> {
    assertValidId('callId', callId);
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(callId);
      if (!queue) {
        queue = { running: false, waiting: [] };
        this.queues.set(callId, queue);
      }
      queue.waiting.push({ mutator, mustExist, resolve, reject });
      if (!queue.running) void this.drain(callId, queue);
    });
  }

  private async drain(callId: string, queue: CallQueue): Promise<void> {
    queue.running = true;
    while (queue.waiting.length > 0) {
      let batch = queue.waiting;
      if (batch.length > MAX_BATCH) batch = batch.splice(0, MAX_BATCH);
      else queue.waiting = [];
      await this.commit(callId, batch);
    }
    queue.running = false;
    this.queues.delete(callId);
  }

  /** Applies a batch of mutators in order and writes the result with one compare-and-swap. */
  private async commit(callId: string, batch: Pending[]): Promise<void> {
    try {
      let current = this.store.peekForUpdate(callId) ?? (await this.store.getForUpdate(callId));
      // Whether `current` is known to be what the store holds (a fresh read or a conflict's).
      let fresh = false;
      for (let attempt = 1; attempt <= this.options.maxCasAttempts; attempt++) {
        if (!current) {
          for (const p of batch) p.reject(new CallNotFoundError(callId));
          return;
        }
        let state: CallState | null = current;
        let errors: Map<Pending, unknown> | undefined;
        for (const p of batch) {
          if (state === null) {
            (errors ??= new Map()).set(p, new CallNotFoundError(callId));
            continue;
          }
          try {
            state = p.mutator(state);
          } catch (err) {
            (errors ??= new Map()).set(p, err);
          }
        }
        const next: CallState | null =
          state === current ? current : state && { ...state, version: current.version + 1 };
        if (next === current && !fresh) {
          // Nothing to write on a cached state, which may be stale: that nothing changes (a
          // session to remove already gone) or that a mutator failed (a session not found, a
          // full call) holds only for what the store holds.
          current = await this.store.get(callId);
          fresh = true;
          attempt--;
          continue;
        }
        const result =
          next === current
            ? { status: 'ok' as const }
            : await this.store.compareAndSet(current, next);
        if (result.status === 'ok') {
          for (const p of batch) {
            if (errors?.has(p)) p.reject(errors.get(p));
            else if (next === null && p.mustExist) p.reject(new CallNotFoundError(callId));
            else p.resolve(next);
          }
          return;
        }
        this.conflicts++;
        current = result.status === 'conflict' ? result.current : null;
        fresh = true;
        // Other instances are writing this call too; spread the retries out a little.
        if (attempt > 2) await sleep(Math.random() * Math.min(2 ** attempt, 50));
      }
      const error = new CallStateConflictError(callId, this.options.maxCasAttempts);
      for (const p of batch) p.reject(error);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private assertStartInput(input: StartCallInput): void {
    assertValidId('channelId', input.channelId);
    assertValidId('ownerId', input.ownerId);
    if (input.callId !== undefined) assertValidId('callId', input.callId);
    if (input.threadId) assertValidId('threadId', input.threadId);
    if (input.postId) assertValidId('postId', input.postId);
    if (input.title !== undefined && input.title.length > 256) {
      throw new InvalidCallStateInputError('title', 'must be at most 256 characters');
    }
  }

  private assertSession(session: CallSessionState): void {
    assertValidId('sessionId', session.sessionId);
    assertValidId('userId', session.userId);
    assertValidId('instanceId', session.instanceId);
  }
}
