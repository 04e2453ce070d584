import type { CallState } from '../state/call-state.types';
import { AnnouncementBatchingDelivery } from './announcement-batching.delivery';
import type { CallDelivery } from './call-delivery.interface';
import type { CallEvent } from './call-events';

/** An adapter that records what reaches it: one line per delivery, a batch on one line. */
class RecordingDelivery implements CallDelivery {
  readonly log: string[] = [];
  toSession(sessionId: string, _channelId: string, event: CallEvent): void {
    this.log.push(`session ${sessionId}: ${label(event)}`);
  }
  toUser(userId: string, event: CallEvent): void {
    this.log.push(`user ${userId}: ${label(event)}`);
  }
  toParticipants(call: CallState, event: CallEvent): void {
    this.log.push(`participants ${call.channelId}: ${label(event)}`);
  }
  toChannel(channelId: string, event: CallEvent): void {
    this.log.push(`channel ${channelId}: ${label(event)}`);
  }
  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    this.log.push(`batch ${channelId}: ${events.map(label).join(', ')}`);
  }
}

function label(event: CallEvent): string {
  return 'sessionId' in event ? `${event.type} ${event.sessionId}` : event.type;
}

const joined = (sessionId: string): CallEvent => ({
  type: 'session-joined',
  userId: `u-${sessionId}`,
  sessionId,
});
const left = (sessionId: string): CallEvent => ({
  type: 'session-left',
  userId: `u-${sessionId}`,
  sessionId,
});
const call = (channelId: string) => ({ channelId }) as CallState;

describe('AnnouncementBatchingDelivery', () => {
  let inner: RecordingDelivery;

  beforeEach(() => {
    jest.useFakeTimers();
    inner = new RecordingDelivery();
  });

  afterEach(() => jest.useRealTimers());

  it('announces the joins of one turn together, then at most one batch per channel per window', () => {
    const delivery = new AnnouncementBatchingDelivery(inner, 20);

    delivery.toChannel('ch1', joined('a'));
    delivery.toChannel('ch2', joined('x'));
    delivery.toChannel('ch1', joined('b'));
    expect(inner.log).toEqual([]);
    jest.advanceTimersByTime(0);
    expect(inner.log).toEqual([
      'batch ch1: session-joined a, session-joined b',
      'batch ch2: session-joined x',
    ]);

    // Within the window after ch1's batch: held until the window ends, in order.
    jest.advanceTimersByTime(5);
    delivery.toChannel('ch1', joined('c'));
    delivery.toChannel('ch1', left('a'));
    jest.advanceTimersByTime(14);
    expect(inner.log).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(inner.log[2]).toBe('batch ch1: session-joined c, session-left a');

    // A window with nothing in it ends the channel's quiet time: the next join goes at once.
    jest.advanceTimersByTime(20);
    expect(jest.getTimerCount()).toBe(0);
    delivery.toChannel('ch1', joined('d'));
    jest.advanceTimersByTime(0);
    expect(inner.log[3]).toBe('batch ch1: session-joined d');
    jest.advanceTimersByTime(20);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('with a window of 0, sends the announcements of one turn of the event loop together', () => {
    const delivery = new AnnouncementBatchingDelivery(inner, 0);

    delivery.toChannel('ch1', joined('a'));
    delivery.toChannel('ch1', joined('b'));
    expect(inner.log).toEqual([]);
    jest.runOnlyPendingTimers();

    expect(inner.log).toEqual(['batch ch1: session-joined a, session-joined b']);
  });

  it('never holds what goes to one session or user', () => {
    const delivery = new AnnouncementBatchingDelivery(inner, 20);

    delivery.toChannel('ch1', joined('a'));
    delivery.toSession('a', 'ch1', { type: 'joined', sessionId: 'a' });
    delivery.toUser('u-a', { type: 'call-state', call: call('ch1'), forUserId: 'u-a' }, 'ch1');

    expect(inner.log).toEqual(['session a: joined a', 'user u-a: call-state']);
    jest.advanceTimersByTime(0);
    expect(inner.log[2]).toBe('batch ch1: session-joined a');
  });

  it('sends a channel’s pending announcements before any other event for its audience', () => {
    const delivery = new AnnouncementBatchingDelivery(inner, 20);

    delivery.toChannel('ch1', joined('a'));
    delivery.toChannel('ch2', joined('x'));
    delivery.toParticipants(call('ch1'), {
      type: 'muted',
      muted: false,
      userId: 'u-a',
      sessionId: 'a',
    });
    delivery.toChannel('ch1', joined('b'));
    delivery.toChannel('ch1', { type: 'call-ended', call: call('ch1') });

    expect(inner.log).toEqual([
      'batch ch1: session-joined a',
      'participants ch1: muted a',
      'batch ch1: session-joined b',
      'channel ch1: call-ended',
    ]);
    jest.advanceTimersByTime(20);
    expect(inner.log[4]).toBe('batch ch2: session-joined x');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends what is pending at shutdown, and everything at once after it', () => {
    const delivery = new AnnouncementBatchingDelivery(inner, 20);

    delivery.toChannel('ch1', joined('a'));
    delivery.toChannel('ch2', joined('x'));
    jest.advanceTimersByTime(0);
    delivery.toChannel('ch1', joined('b'));
    delivery.toChannel('ch3', joined('y'));
    delivery.onApplicationShutdown();
    delivery.toChannel('ch1', left('a'));

    expect(inner.log).toEqual([
      'batch ch1: session-joined a',
      'batch ch2: session-joined x',
      'batch ch1: session-joined b',
      'batch ch3: session-joined y',
      'channel ch1: session-left a',
    ]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
