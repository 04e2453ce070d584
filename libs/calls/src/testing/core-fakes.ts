/**
 * Hand-written fakes of the core's ports, for unit specs only (integration and e2e tests use the
 * real parts that `index.ts` gathers, so these are imported from this file, not from the barrel).
 * Like the rest of `testing/`, they stay out of the production build.
 */
import type { CallDelivery } from '../calls/call-delivery.interface';
import type { CallEvent, CallEventType } from '../calls/call-events';
import type { SessionConnection, SessionPlace } from '../calls/local-sessions';
import type { CallsPermissions } from '../identity/calls-permissions.interface';
import type {
  MediaIceCandidate,
  MediaPlane,
  MediaPlaneListener,
  MediaStats,
  MediaWorkerUsage,
  MediaSessionOptions,
  MediaSessionRef,
  MediaSignal,
  MediaTrack,
} from '../media/media-plane.interface';
import type { CallState } from '../state/call-state.types';

/** One call a {@link FakeMediaPlane} received, with its arguments. */
export type MediaCall =
  | {
      readonly method: 'openSession';
      readonly ref: MediaSessionRef;
      readonly muted: boolean;
      /** The options beyond `muted`, when any were given. */
      readonly options?: MediaSessionOptions;
    }
  | { readonly method: 'closeSession'; readonly sessionId: string }
  | { readonly method: 'clientReconnected'; readonly sessionId: string }
  | { readonly method: 'setAudioMuted'; readonly sessionId: string; readonly muted: boolean }
  | {
      readonly method: 'sendData';
      readonly sessionId: string;
      readonly label: string;
      readonly payload: Uint8Array;
    }
  | {
      readonly method: 'setTrackPaused';
      readonly sessionId: string;
      readonly track: string;
      readonly paused: boolean;
    }
  | {
      readonly method: 'setScreenStream';
      readonly sessionId: string;
      readonly streamId: string | null;
    }
  | { readonly method: 'closeCall'; readonly callId: string }
  | {
      readonly method: 'handleDescription';
      readonly sessionId: string;
      readonly description: { type: 'offer' | 'answer'; sdp: string };
    }
  | {
      readonly method: 'addIceCandidate';
      readonly sessionId: string;
      readonly candidate: MediaIceCandidate;
    };

/** The reason a media plane gives when it closes a session by itself. */
export type MediaCloseReason = Parameters<MediaPlaneListener['sessionClosed']>[1];

/**
 * A {@link MediaPlane} without media, for unit specs of the core: it records every call, keeps the
 * set of open sessions (so `hasSession` answers like the SFU), and lets a test emit the events the
 * SFU would (`signal`, `voice`, `sessionClosed`) to its subscribers.
 */
export class FakeMediaPlane implements MediaPlane {
  /** Every call received, in order. */
  readonly calls: MediaCall[] = [];
  /** Sessions with open media, by session id. */
  readonly open = new Map<string, MediaSessionRef>();
  /** When set, the next `openSession` rejects with it (and opens nothing). */
  failNextOpen: Error | null = null;
  /** The tracks `tracksOf` lists (of every call; filtered by call id). */
  readonly tracks: MediaTrack[] = [];
  /** Called by `handleDescription` before it resolves (a test emits the SFU's answer there). */
  onDescription: ((sessionId: string, description: { type: string; sdp: string }) => void) | null =
    null;
  private readonly listeners = new Set<MediaPlaneListener>();

  openSession(ref: MediaSessionRef, options: MediaSessionOptions = {}): Promise<void> {
    const { muted = false, ...others } = options;
    this.calls.push({
      method: 'openSession',
      ref,
      muted,
      ...(Object.keys(others).length > 0 ? { options: others } : {}),
    });
    const failure = this.failNextOpen;
    this.failNextOpen = null;
    if (failure) return Promise.reject(failure);
    this.open.set(ref.sessionId, ref);
    return Promise.resolve();
  }

  handleDescription(
    sessionId: string,
    description: { type: 'offer' | 'answer'; sdp: string },
  ): Promise<void> {
    this.calls.push({ method: 'handleDescription', sessionId, description });
    this.onDescription?.(sessionId, description);
    return Promise.resolve();
  }

  addIceCandidate(sessionId: string, candidate: MediaIceCandidate): Promise<void> {
    this.calls.push({ method: 'addIceCandidate', sessionId, candidate });
    return Promise.resolve();
  }

  setAudioMuted(sessionId: string, muted: boolean): Promise<void> {
    this.calls.push({ method: 'setAudioMuted', sessionId, muted });
    return Promise.resolve();
  }

  setTrackPaused(sessionId: string, track: string, paused: boolean): Promise<void> {
    this.calls.push({ method: 'setTrackPaused', sessionId, track, paused });
    return Promise.resolve();
  }

  /** The {@link tracks} of the call (none unless a test adds some). */
  tracksOf(callId: string): MediaTrack[] {
    return this.tracks.filter((t) => t.callId === callId);
  }

  /** Records the message; no client has a data channel here. */
  sendData(sessionId: string, label: string, payload: Uint8Array): boolean {
    this.calls.push({ method: 'sendData', sessionId, label, payload });
    return false;
  }

  setScreenStream(sessionId: string, streamId: string | null): void {
    this.calls.push({ method: 'setScreenStream', sessionId, streamId });
  }

  clientReconnected(sessionId: string): void {
    this.calls.push({ method: 'clientReconnected', sessionId });
  }

  closeSession(sessionId: string): Promise<void> {
    this.calls.push({ method: 'closeSession', sessionId });
    this.open.delete(sessionId);
    return Promise.resolve();
  }

  closeCall(callId: string): Promise<void> {
    this.calls.push({ method: 'closeCall', callId });
    for (const [sessionId, ref] of this.open)
      if (ref.callId === callId) this.open.delete(sessionId);
    return Promise.resolve();
  }

  hasSession(sessionId: string): boolean {
    return this.open.has(sessionId);
  }

  subscribe(listener: MediaPlaneListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): MediaStats {
    return { workers: 0, routers: 0, transports: 0, producers: 0, consumers: 0, pipes: 0 };
  }

  workerUsage(): Promise<MediaWorkerUsage[]> {
    return Promise.resolve([]);
  }

  /** The recorded calls of one method. */
  callsOf<M extends MediaCall['method']>(method: M): Extract<MediaCall, { method: M }>[] {
    return this.calls.filter((c): c is Extract<MediaCall, { method: M }> => c.method === method);
  }

  /** Emits a signal for a session, as the SFU does (an answer, a candidate, …). */
  emitSignal(ref: MediaSessionRef, signal: MediaSignal): void {
    for (const l of this.listeners) l.signal(ref, signal);
  }

  /** Emits a change of a session's voice activity. */
  emitVoice(ref: MediaSessionRef, speaking: boolean): void {
    for (const l of this.listeners) l.voice(ref, speaking);
  }

  /** Closes a session's media by itself (as on ICE/DTLS failure) and tells the subscribers. */
  emitSessionClosed(ref: MediaSessionRef, reason: MediaCloseReason): void {
    this.open.delete(ref.sessionId);
    for (const l of this.listeners) l.sessionClosed(ref, reason);
  }
}

/** Whom a {@link FakeDelivery} delivered an event to. */
export type DeliveryScope = 'session' | 'user' | 'participants' | 'channel';

/** One delivery recorded by a {@link FakeDelivery}: `target` is a session, user, call or channel id. */
export interface Delivered {
  readonly scope: DeliveryScope;
  readonly target: string;
  readonly event: CallEvent;
}

/**
 * A {@link CallDelivery} that records each delivery as `[scope, target, event]` (for `participants`
 * the target is the call's id). Tests read {@link Delivered} entries, filtered by event type.
 */
export class FakeDelivery implements CallDelivery {
  /** Every delivery, in order. */
  readonly delivered: Delivered[] = [];
  /** Called after each delivery (a test may act on an event, e.g. leave when told to drain). */
  onDeliver: ((delivered: Delivered) => void) | null = null;

  toSession(sessionId: string, _channelId: string, event: CallEvent): void {
    this.record({ scope: 'session', target: sessionId, event });
  }

  toUser(userId: string, event: CallEvent): void {
    this.record({ scope: 'user', target: userId, event });
  }

  toParticipants(call: CallState, event: CallEvent): void {
    this.record({ scope: 'participants', target: call.id, event });
  }

  toChannel(channelId: string, event: CallEvent): void {
    this.record({ scope: 'channel', target: channelId, event });
  }

  /** Recorded as one `channel` delivery per event (the batch's order kept). */
  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    for (const event of events) this.toChannel(channelId, event);
  }

  /** The deliveries of events of one type, in order. */
  ofType<T extends CallEventType>(
    type: T,
  ): (Delivered & { readonly event: Extract<CallEvent, { type: T }> })[] {
    return this.delivered.filter(
      (d): d is Delivered & { readonly event: Extract<CallEvent, { type: T }> } =>
        d.event.type === type,
    );
  }

  /** The types of the events delivered, in order (`scope:target:type`, compact for assertions). */
  summary(): string[] {
    return this.delivered.map((d) => `${d.scope}:${d.target}:${d.event.type}`);
  }

  /** Forgets what was delivered so far. */
  clear(): void {
    this.delivered.length = 0;
  }

  private record(delivered: Delivered): void {
    this.delivered.push(delivered);
    this.onDeliver?.(delivered);
  }
}

/**
 * A {@link SessionConnection} as a protocol adapter's connection would be: it serves at most one
 * session, and remembers how often it was detached.
 */
export class FakeConnection implements SessionConnection {
  /** The place of the session it serves, if any. */
  place: SessionPlace | undefined;
  /** Times `detach` was called. */
  detached = 0;

  constructor(readonly name = 'connection') {}

  get sessionId(): string | undefined {
    return this.place?.sessionId;
  }

  attach({ sessionId, callId, channelId }: SessionPlace): void {
    this.place = { sessionId, callId, channelId };
  }

  detach(): void {
    this.detached++;
    this.place = undefined;
  }
}

/**
 * The host app's {@link CallsPermissions}, configurable per test: every user may join every
 * channel and nobody is an admin unless said otherwise.
 */
export class FakePermissions implements CallsPermissions {
  /** `userId:channelId` pairs refused. */
  readonly refused = new Set<string>();
  /** Users who are system admins. */
  readonly admins = new Set<string>();

  /** Refuses the user the channel's calls. */
  refuse(userId: string, channelId: string): void {
    this.refused.add(`${userId}:${channelId}`);
  }

  canJoinChannel(userId: string, channelId: string): Promise<boolean> {
    return Promise.resolve(!this.refused.has(`${userId}:${channelId}`));
  }

  isAdmin(userId: string): Promise<boolean> {
    return Promise.resolve(this.admins.has(userId));
  }
}
