import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import { CallsError } from '../errors/calls.error';
import { httpError } from './http-errors';

/** Domain errors become Mattermost error bodies with the right status; nothing internal leaks. */
@Catch()
export class CallsHttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('CallsHttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const res = exception.getResponse();
      const raw = typeof res === 'string' ? res : (res as { message?: unknown }).message;
      const message = Array.isArray(raw)
        ? raw.join('; ')
        : typeof raw === 'string'
          ? raw
          : exception.message;
      response.status(status).json({
        message,
        status_code: status,
        code: 'bad_request',
      });
      return;
    }
    if (!(exception instanceof CallsError))
      this.logger.error('request failed', (exception as Error)?.stack);
    const { status, body } = httpError(exception);
    response.status(status).json(body);
  }
}
