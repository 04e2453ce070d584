import { Injectable } from '@nestjs/common';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { CALLS_EVENT_PREFIX, ClientAction } from '../protocol/mattermost/calls-events';
import type { WsAck } from './ws-ack';

/** `join` for `custom_com.mattermost.calls_join`; `unknown` for what is not an event name. */
function typeOf(event: unknown): string {
  return typeof event === 'string' ? event.replace(CALLS_EVENT_PREFIX, '') : 'unknown';
}

/**
 * Counts the Mattermost clients' messages by type and result (`calls_signaling_messages_total`)
 * and times accepted joins. Called by the gateway when a handler has finished and by its
 * exception filter for every failure (a refused message, a failed handler), so a message is
 * counted once without a Nest interceptor around every handler (an interceptor's rxjs and async
 * context plumbing were ~6 % of the server's busy time in a profile of 200 Poisson arrivals).
 */
@Injectable()
export class WsMessageMetrics {
  constructor(private readonly metrics: CallsMetrics) {}

  /** A handler finished with `ack`; `startedMs` (`performance.now()`) when it was called. */
  handled(event: string, ack: WsAck, startedMs: number): void {
    this.metrics.messages.inc({ type: typeOf(event), result: ack.ok ? 'ok' : 'error' });
    if (event === ClientAction.join && ack.ok) {
      this.metrics.joins.inc();
      this.metrics.joinLatency.observe((performance.now() - startedMs) / 1000);
    }
  }

  /** A message refused (invalid) or whose handler failed. */
  failed(event: unknown): void {
    this.metrics.messages.inc({ type: typeOf(event), result: 'error' });
  }
}
