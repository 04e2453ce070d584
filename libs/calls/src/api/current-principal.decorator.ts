import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { UnauthenticatedError } from '../errors/unauthenticated.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';

/** Request property the auth guard fills. */
export const PRINCIPAL_KEY = 'callsPrincipal';

/** Marks a route that needs no authentication (Mattermost: `/version`). */
export const PUBLIC_ROUTE = 'calls:public';
export const Public = (): MethodDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The authenticated user of the request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): CallsPrincipal => {
    const principal = ctx
      .switchToHttp()
      .getRequest<Request & { [PRINCIPAL_KEY]?: CallsPrincipal }>()[PRINCIPAL_KEY];
    if (!principal) throw new UnauthenticatedError();
    return principal;
  },
);
