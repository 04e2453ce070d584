import type { OnApplicationShutdown } from '@nestjs/common';
import type { CallState } from '../state/call-state.types';
import type { CallDelivery } from './call-delivery.interface';
import type { CallEvent, CallEventType } from './call-events';

/** The announcements collected into batches: a session joined or left a call. */
const ANNOUNCEMENTS: ReadonlySet<CallEventType> = new Set<CallEventType>([
  'session-joined',
  'session-left',
]);

/**
 * The core's {@link CallDelivery}, around the protocol adapters': the joins and leaves announced
 * to a channel are collected for `windowMs` (0: until the next check phase of the event loop, i.e.
 * those of one turn) and handed to the adapters as one batch per channel
 * ({@link CallDelivery.toChannelBatch}),
 * so a burst of joins reaches each follower as a few writes instead of one broadcast per join.
 * Everything else goes out at once: what goes to one session or user (the joiner's `joined`, its
 * answer, its call state) never waits, and an event for a channel's or call's audience (a mute, a
 * host change, a reaction) first sends that channel's pending announcements, so the audience sees
 * every session join before anything it does. Announcements of one channel keep their order.
 */
export class AnnouncementBatchingDelivery implements CallDelivery, OnApplicationShutdown {
  /** Pending announcements per channel, in order (channels in the order they began waiting). */
  private readonly pending = new Map<string, CallEvent[]>();
  private timer: { cancel(): void } | null = null;
  private closed = false;

  /**
   * @param inner the adapters' delivery
   * @param windowMs how long an announcement may wait for others (0: this turn of the loop)
   */
  constructor(
    private readonly inner: CallDelivery,
    private readonly windowMs: number,
  ) {}

  toSession(sessionId: string, channelId: string, event: CallEvent): void {
    this.inner.toSession(sessionId, channelId, event);
  }

  toUser(userId: string, event: CallEvent, channelId?: string): void {
    this.inner.toUser(userId, event, channelId);
  }

  toParticipants(call: CallState, event: CallEvent): void {
    this.flush(call.channelId);
    this.inner.toParticipants(call, event);
  }

  toChannel(channelId: string, event: CallEvent): void {
    if (ANNOUNCEMENTS.has(event.type) && !this.closed) {
      this.enqueue(channelId, event);
      return;
    }
    this.flush(channelId);
    this.inner.toChannel(channelId, event);
  }

  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    this.flush(channelId);
    this.inner.toChannelBatch(channelId, events);
  }

  /** Sends every pending announcement; later ones go out at once. */
  onApplicationShutdown(): void {
    this.closed = true;
    this.flushAll();
  }

  /** Sends a channel's pending announcements now. */
  private flush(channelId: string): void {
    const events = this.pending.get(channelId);
    if (!events) return;
    this.pending.delete(channelId);
    this.inner.toChannelBatch(channelId, events);
    if (this.pending.size === 0) this.stopTimer();
  }

  private flushAll(): void {
    this.stopTimer();
    for (const channelId of [...this.pending.keys()]) this.flush(channelId);
  }

  private enqueue(channelId: string, event: CallEvent): void {
    const events = this.pending.get(channelId);
    if (events) events.push(event);
    else this.pending.set(channelId, [event]);
    this.timer ??= this.startTimer(() => {
      this.timer = null;
      this.flushAll();
    });
  }

  /** One timer for every channel: an announcement waits at most one window. */
  private startTimer(fire: () => void): { cancel(): void } {
    if (this.windowMs <= 0) {
      const immediate = setImmediate(fire);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timeout = setTimeout(fire, this.windowMs);
    return { cancel: () => clearTimeout(timeout) };
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
