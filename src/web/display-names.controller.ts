import {
  Controller,
  Get,
  Headers,
  HttpCode,
  Post,
  Query,
  UnauthorizedException,
} from '@nestjs/common';
import type { CallsPrincipal } from '@app/calls';
import { DemoAuthService } from '../auth/demo-auth.service';
import { DisplayNames } from './display-names';

const MAX_IDS = 100;

/**
 * Names for the page's participant list: `POST /web/profile` records the caller's display name
 * (from their token), `GET /web/users?ids=a,b` returns the known ones. Both need a bearer token.
 */
@Controller('web')
export class DisplayNamesController {
  constructor(
    private readonly auth: DemoAuthService,
    private readonly names: DisplayNames,
  ) {}

  @Post('profile')
  @HttpCode(200)
  async profile(
    @Headers() headers: Record<string, string | string[] | undefined>,
  ): Promise<{ user_id: string; name: string }> {
    const principal = await this.principal(headers);
    const name = principal.displayName ?? principal.userId;
    this.names.remember(principal.userId, name);
    return { user_id: principal.userId, name };
  }

  @Get('users')
  async users(
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Query('ids') ids?: string,
  ): Promise<Record<string, string>> {
    await this.principal(headers);
    const list = (ids ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean)
      .slice(0, MAX_IDS);
    return this.names.lookup(list);
  }

  private async principal(
    headers: Record<string, string | string[] | undefined>,
  ): Promise<CallsPrincipal> {
    const principal = await this.auth.authenticateRequest({ headers });
    if (!principal) throw new UnauthorizedException();
    return principal;
  }
}
