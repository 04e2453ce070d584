import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { CALLS_EVENT_PREFIX } from '../protocol/mattermost/calls-events';
import type { WsAck } from './ws-ack';

/** Counts every client message by type and result, and times joins. */
@Injectable()
export class WsMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: CallsMetrics) {}

  intercept(context: ExecutionContext, next: CallHandler<WsAck>): Observable<WsAck> {
    const pattern = context.getArgByIndex<unknown>(3);
    const type = typeof pattern === 'string' ? pattern.replace(CALLS_EVENT_PREFIX, '') : 'unknown';
    const started = process.hrtime.bigint();
    return next.handle().pipe(
      tap({
        next: (ack) => {
          this.metrics.messages.inc({ type, result: ack.ok ? 'ok' : 'error' });
          if (type === 'join' && ack.ok) {
            this.metrics.joins.inc();
            this.metrics.joinLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
          }
        },
        error: () => this.metrics.messages.inc({ type, result: 'error' }),
      }),
    );
  }
}
