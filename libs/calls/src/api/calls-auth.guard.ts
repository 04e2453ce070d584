import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { RateLimitedError } from '../errors/rate-limited.error';
import { UnauthenticatedError } from '../errors/unauthenticated.error';
import {
  CallsIdentity,
  type CallsPrincipal,
  InjectCallsIdentity,
} from '../identity/calls-identity.interface';
import { TokenBucket } from '../calls/token-bucket';
import { PRINCIPAL_KEY, PUBLIC_ROUTE } from './current-principal.decorator';

const SWEEP_EVERY = 1000;

/**
 * Authenticates every calls REST request through the host's identity seam (401 otherwise) and
 * rate-limits each user (Mattermost: 1 request/s, burst 10 → 429).
 */
@Injectable()
export class CallsAuthGuard implements CanActivate {
  private readonly buckets = new Map<string, TokenBucket>();
  private requests = 0;

  constructor(
    @Inject(CALLS_OPTIONS)
    private readonly options: Pick<ResolvedCallsOptions, 'httpRequestRate' | 'httpRequestBurst'>,
    @InjectCallsIdentity() private readonly identity: CallsIdentity,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.get<boolean>(PUBLIC_ROUTE, context.getHandler())) return true;
    const request = context
      .switchToHttp()
      .getRequest<Request & { [PRINCIPAL_KEY]?: CallsPrincipal }>();
    const principal = await this.identity
      .authenticateRequest({ headers: request.headers })
      .catch(() => null);
    if (!principal) throw new UnauthenticatedError();
    request[PRINCIPAL_KEY] = principal;
    if (!this.bucket(principal.userId).take()) throw new RateLimitedError();
    return true;
  }

  private bucket(userId: string): TokenBucket {
    if (++this.requests % SWEEP_EVERY === 0) {
      for (const [id, b] of this.buckets) if (b.idle) this.buckets.delete(id);
    }
    let bucket = this.buckets.get(userId);
    if (!bucket) {
      bucket = new TokenBucket(this.options.httpRequestRate, this.options.httpRequestBurst);
      this.buckets.set(userId, bucket);
    }
    return bucket;
  }
}
