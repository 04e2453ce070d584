import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  Query,
  Req,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { CallQueriesService } from '../calls/call-queries.service';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { LiveKitDisabledError } from '../errors/livekit-disabled.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { formatIdentity } from '../protocol/livekit/livekit-identity';
import { newSessionId } from '../protocol/livekit/livekit-ids';
import { LiveKitTokens } from '../protocol/livekit/livekit-tokens';
import { DepthLimitedValidationPipe } from '../protocol/mattermost/depth-limited-validation.pipe';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { CallsAuthGuard } from './calls-auth.guard';
import { CallsHttpExceptionFilter } from './calls-http-exception.filter';
import { CALLS_ROUTE_PREFIXES } from './calls-routes';
import { CurrentPrincipal } from './current-principal.decorator';
import { LiveKitSessionDto } from './livekit-token.dto';
import { liveKitUrl, type UrlRequest } from './livekit-url';

/** Lifetime of the tokens these routes mint (Mattermost's hour). */
const TOKEN_TTL_SECONDS = 3600;

/**
 * Mattermost's LiveKit-era token routes: a LiveKit token for the channel's call, identity
 * `userID___sessionID`, room = the channel id, name = the user id, valid for an hour, allowed to
 * set its own attributes (raise hand). The channel's access is checked as for a join; 404
 * `livekit_disabled` when the LiveKit transport is off (as a server without the route).
 */
@Controller(CALLS_ROUTE_PREFIXES)
@UseGuards(CallsAuthGuard)
@UseFilters(CallsHttpExceptionFilter)
@UsePipes(new DepthLimitedValidationPipe({ whitelist: true, transform: true }))
export class LiveKitTokenController {
  constructor(
    @Inject(CALLS_OPTIONS)
    private readonly options: Pick<ResolvedCallsOptions, 'livekitUrl' | 'livekitPath'>,
    private readonly tokens: LiveKitTokens,
    private readonly queries: CallQueriesService,
    private readonly wire: MattermostWire,
  ) {}

  /**
   * `GET livekit-token?channel_id&session_id` (Mattermost v2): a token for a session of the user
   * in the channel's active call. @throws CallNotFoundError, SessionNotFoundError, ForbiddenError
   */
  @Get('livekit-token')
  async token(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Query('channel_id') channelParam: unknown,
    @Query('session_id') sessionParam: unknown,
    @Req() req: UrlRequest,
  ): Promise<{ token: string; url: string }> {
    this.assertEnabled();
    const channelId = this.wire.internalId('channel_id', stringParam('channel_id', channelParam));
    const sessionId = stringParam('session_id', sessionParam);
    const call = await this.queries.callOfChannel(principal.userId, channelId);
    if (!call) throw new CallNotFoundError(`channel:${channelId}`);
    const session = call.sessions[sessionId];
    if (!session || session.userId !== principal.userId) {
      throw new SessionNotFoundError(call.id, sessionId);
    }
    return { token: await this.mint(principal.userId, channelId, sessionId), url: this.url(req) };
  }

  /**
   * `POST livekit-token {channel_id, title?, thread_id?, job_id?}` (Mattermost's newest): a new
   * session id and its token, with the channel's call state as the calls WebSocket's `call_state`
   * gives it (`call` empty when no call runs). The session joins when its LiveKit client connects.
   * @throws ForbiddenError
   */
  @Post('livekit-token')
  @HttpCode(200)
  async session(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Body() body: LiveKitSessionDto,
    @Req() req: UrlRequest,
  ): Promise<{ session_id: string; token: string; url: string; call_state: unknown }> {
    this.assertEnabled();
    const channelId = this.wire.internalId('channel_id', body.channel_id);
    const call = await this.queries.callOfChannel(principal.userId, channelId);
    const sessionId = newSessionId();
    return {
      session_id: sessionId,
      token: await this.mint(principal.userId, channelId, sessionId),
      url: this.url(req),
      call_state: {
        channel_id: this.wire.id(channelId),
        channel_id_raw: channelId,
        call: call ? JSON.stringify(this.wire.callState(call, principal.userId)) : '',
      },
    };
  }

  private mint(userId: string, channelId: string, sessionId: string): Promise<string> {
    const wireUser = this.wire.id(userId);
    return this.tokens.mint({
      identity: formatIdentity(wireUser, sessionId),
      name: wireUser,
      room: this.wire.id(channelId),
      grants: { canUpdateOwnMetadata: true },
      ttlSeconds: TOKEN_TTL_SECONDS,
    });
  }

  private url(req: UrlRequest): string {
    return liveKitUrl(this.options.livekitUrl, this.options.livekitPath, req);
  }

  private assertEnabled(): void {
    if (!this.tokens.enabled) throw new LiveKitDisabledError();
  }
}

function stringParam(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 128) {
    throw new InvalidMessageError(name, 'is missing or malformed');
  }
  return value;
}
