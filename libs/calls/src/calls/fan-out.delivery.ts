import { Logger } from '@nestjs/common';
import type { CallState } from '../state/call-state.types';
import type { CallDelivery } from './call-delivery.interface';
import type { CallEvent } from './call-events';

/**
 * One {@link CallDelivery} made of several (one per protocol adapter): every delivery goes to
 * each, so every protocol sees every event in its own terms. One adapter's failure does not keep
 * the event from the others (delivery never fails).
 */
export class FanOutCallDelivery implements CallDelivery {
  private readonly logger = new Logger(FanOutCallDelivery.name);

  constructor(private readonly deliveries: readonly CallDelivery[]) {}

  toSession(sessionId: string, channelId: string, event: CallEvent): void {
    this.each((d) => d.toSession(sessionId, channelId, event));
  }

  toUser(userId: string, event: CallEvent, channelId?: string): void {
    this.each((d) => d.toUser(userId, event, channelId));
  }

  toParticipants(call: CallState, event: CallEvent): void {
    this.each((d) => d.toParticipants(call, event));
  }

  toChannel(channelId: string, event: CallEvent): void {
    this.each((d) => d.toChannel(channelId, event));
  }

  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    this.each((d) => d.toChannelBatch(channelId, events));
  }

  private each(deliver: (delivery: CallDelivery) => void): void {
    for (const delivery of this.deliveries) {
      try {
        deliver(delivery);
      } catch (err) {
        this.logger.warn(`a delivery failed: ${(err as Error).message}`);
      }
    }
  }
}
