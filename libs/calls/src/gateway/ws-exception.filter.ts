import {
  type ArgumentsHost,
  Catch,
  Injectable,
  Logger,
  type WsExceptionFilter,
} from '@nestjs/common';
import { CallsError } from '../errors';
import { mattermostEnvelope } from '../protocol/mattermost/mattermost-envelope';
import { ClientAction } from '../protocol/mattermost/calls-events';
import type { CallsSocket } from './socket-context';
import { WsMessageMetrics } from './ws-message-metrics';
import { WS_ERROR_DETAIL, type WsAck, wsError } from './ws-ack';

/**
 * Every failed action gets an error acknowledgement (when the client asked for one) and changes
 * nothing. A failed `join` also gets Mattermost's `error` event on that connection (the only
 * action Mattermost answers with `error`: clients treat it as fatal for the call). Each failure
 * is counted ({@link WsMessageMetrics}).
 */
@Catch()
@Injectable()
export class CallsWsExceptionFilter implements WsExceptionFilter {
  private readonly logger = new Logger('CallsWsExceptionFilter');

  constructor(private readonly metrics: WsMessageMetrics) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const socket = host.getArgByIndex<CallsSocket>(0);
    const ack = host.getArgByIndex<unknown>(2);
    const pattern = host.getArgByIndex<unknown>(3);
    const error = wsError(exception);
    this.metrics.failed(pattern);
    if (exception instanceof CallsError && WS_ERROR_DETAIL[exception.code] === 'detailed') {
      this.logger.debug(
        `action refused [event=${String(pattern)}, code=${exception.code}]: ${exception.message}`,
      );
    } else {
      this.logger.error(
        `action failed [event=${String(pattern)}, code=${error.code}]`,
        (exception as Error)?.stack,
      );
    }
    if (typeof ack === 'function') (ack as (r: WsAck) => void)({ ok: false, error });
    if (pattern === ClientAction.join) {
      const connID = socket.data.connectionId ?? '';
      const envelope = mattermostEnvelope(
        'error',
        { data: error.message, connID, code: error.code },
        { connection_id: connID },
      );
      socket.emit(envelope.event, envelope);
    }
  }
}
