import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
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
    const { status, body } = httpError(exception);
    // A 500 shows the client no detail, so the log keeps it (domain errors included).
    if (status === HttpStatus.INTERNAL_SERVER_ERROR) {
      this.logger.error(`request failed [code=${body.code}]`, (exception as Error)?.stack);
    }
    response.status(status).json(body);
  }
}
