import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { RateLimitedError } from '../errors/rate-limited.error';
import type { CallsSocket } from './socket-context';

/** Per-socket token bucket (Mattermost: 10 messages/s, burst 100); excess is refused. */
@Injectable()
export class WsRateLimitGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const socket = context.switchToWs().getClient<CallsSocket>();
    if (socket.data.limiter && !socket.data.limiter.take()) throw new RateLimitedError();
    return true;
  }
}
