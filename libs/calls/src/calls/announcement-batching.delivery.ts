import type { OnApplicationShutdown } from '@nestjs/common';
import type { CallState } from '../state/call-state.types';
import type { CallDelivery } from './call-delivery.interface';
import type { CallEvent, CallEventType } from './call-events';

/** The announcements collected into batches: a session joined or left a call. */
const ANNOUNCEMENTS: ReadonlySet<CallEventType> = new Set<CallEventType>([
  'session-joined',
  'session-left',
]);

/** A channel's announcements waiting to go out, and when they go. */
interface ChannelBatch {
  events: CallEvent[];
  /** Fires the next batch: at the end of this turn, or when the channel's quiet time is over. */
  timer: { cancel(): void };
}

/**
 * The core's {@link CallDelivery}, around the protocol adapters': the joins and leaves announced
 * to a channel go out as one batch per channel ({@link CallDelivery.toChannelBatch}), at most one
 * batch per channel every `windowMs`. An announcement after a quiet window waits only for the
 * rest of its turn of the event loop (the joins of one turn go together); one that comes within
 * `windowMs` of the channel's last batch waits for the end of that window, with any others. So a
 * lone join is announced at once, and a stream of joins into a big call (people arriving a few
 * tens of milliseconds apart) reaches each follower as a few writes instead of one per join.
 * Everything else goes out at once: what goes to one session or user (the joiner's `joined`, its
 * answer, its call state) never waits, and an event for a channel's or call's audience (a mute, a
 * host change, a reaction) first sends that channel's pending announcements, so the audience sees
 * every session join before anything it does. Announcements of one channel keep their order.
 */
export class AnnouncementBatchingDelivery implements CallDelivery, OnApplicationShutdown {
  /** Channels with announcements waiting, or in their quiet time after a batch. */
  private readonly batches = new Map<string, ChannelBatch>();
  private closed = false;

  /**
   * @param inner the adapters' delivery
   * @param windowMs the least time between two batches of a channel (0: one per turn of the loop)
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
    for (const [channelId, batch] of this.batches) {
      batch.timer.cancel();
      this.flush(channelId);
    }
    this.batches.clear();
  }

  /** Sends a channel's pending announcements now (its quiet time, if any, goes on). */
  private flush(channelId: string): void {
    const batch = this.batches.get(channelId);
    if (!batch || batch.events.length === 0) return;
    const { events } = batch;
    batch.events = [];
    this.inner.toChannelBatch(channelId, events);
  }

  private enqueue(channelId: string, event: CallEvent): void {
    const batch = this.batches.get(channelId);
    if (batch) {
      batch.events.push(event);
      return;
    }
    const immediate = setImmediate(() => this.fire(channelId));
    this.batches.set(channelId, {
      events: [event],
      timer: { cancel: () => clearImmediate(immediate) },
    });
  }

  /** Sends the channel's batch, then keeps the channel quiet for a window (or forgets it). */
  private fire(channelId: string): void {
    const batch = this.batches.get(channelId);
    if (!batch) return;
    const sent = batch.events.length > 0;
    this.flush(channelId);
    if (!sent || this.windowMs <= 0) {
      this.batches.delete(channelId);
      return;
    }
    const timeout = setTimeout(() => this.fire(channelId), this.windowMs);
    batch.timer = { cancel: () => clearTimeout(timeout) };
  }
}
