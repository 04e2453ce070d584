import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { CallQueriesService, type ChannelCalls } from '../calls/call-queries.service';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { ForbiddenError } from '../errors/forbidden.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { MattermostWire, type MattermostCallState } from '../protocol/mattermost/mattermost-wire';
import {
  MATTERMOST_LIVEKIT_VERSION,
  MATTERMOST_PROTOCOL_VERSION,
} from '../protocol/mattermost/version';
import { DepthLimitedValidationPipe } from '../protocol/mattermost/depth-limited-validation.pipe';
import { CallsAuthGuard } from './calls-auth.guard';
import { CallsHttpExceptionFilter } from './calls-http-exception.filter';
import { CALLS_ROUTE_PREFIXES } from './calls-routes';
import { ChannelIdPipe } from './channel-id.pipe';
import { CurrentPrincipal, Public } from './current-principal.decorator';
import { ChannelSettingsDto } from './dto';
import { SUCCESS } from './http-errors';
import { turnCredentials, type TurnCredentials } from '../calls/turn-credentials';

/** A channel's calls entry (`GET /{channel_id}`, `GET /channels`). */
interface ChannelEntry {
  channel_id: string;
  channel_id_raw: string;
  enabled: boolean;
  call?: MattermostCallState;
}

/** The options this class reads. */
type CallsControllerOptions = Pick<
  ResolvedCallsOptions,
  | 'allowScreenSharing'
  | 'enableSimulcast'
  | 'enableVideo'
  | 'livekitAnnounce'
  | 'livekitKeys'
  | 'maxCallCameras'
  | 'maxCallParticipants'
  | 'stunServers'
  | 'turnCredentialsTtlMinutes'
  | 'turnServerUrls'
  | 'turnStaticAuthSecret'
>;

/** Mattermost Calls plugin REST API used by clients (general routes). */
@Controller(CALLS_ROUTE_PREFIXES)
@UseGuards(CallsAuthGuard)
@UseFilters(CallsHttpExceptionFilter)
@UsePipes(new DepthLimitedValidationPipe({ whitelist: true, transform: true }))
export class CallsController {
  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: CallsControllerOptions,
    private readonly queries: CallQueriesService,
    private readonly wire: MattermostWire,
  ) {}

  /**
   * Plugin version: ≥ 0.21.0 (multi-session clients), < 1.7.0 (no data-channel signaling locks);
   * 2.0.0 when the LiveKit transport is on and announced (`livekitAnnounce`).
   */
  @Get('version')
  @Public()
  version(): { version: string; build: string } {
    const o = this.options;
    const livekit = o.livekitAnnounce && Object.keys(o.livekitKeys).length > 0;
    const version = livekit ? MATTERMOST_LIVEKIT_VERSION : MATTERMOST_PROTOCOL_VERSION;
    return { version, build: 'calls-for-chat-servers' };
  }

  /** Mattermost's `ClientConfig`. TURN secrets are never part of it. */
  @Get('config')
  config(): Record<string, unknown> {
    const o = this.options;
    const needsTurnCredentials = o.turnServerUrls.length > 0 && o.turnStaticAuthSecret !== '';
    const iceServersConfigs = o.stunServers.length > 0 ? [{ urls: o.stunServers }] : [];
    return {
      ICEServers: o.stunServers,
      ICEServersConfigs: iceServersConfigs,
      AllowEnableCalls: true,
      DefaultEnabled: true,
      MaxCallParticipants: o.maxCallParticipants,
      NeedsTURNCredentials: needsTurnCredentials,
      AllowScreenSharing: o.allowScreenSharing,
      EnableRecordings: false,
      EnableTranscriptions: false,
      EnableLiveCaptions: false,
      MaxRecordingDuration: 60,
      EnableSimulcast: o.enableSimulcast,
      EnableRinging: false,
      sku_short_name: 'professional',
      HostControlsAllowed: true,
      EnableAV1: false,
      GroupCallsAllowed: true,
      EnableDCSignaling: false,
      EnableVideo: o.enableVideo,
      // This server's extension: the most cameras on at once in a call (0: no limit).
      MaxCallCameras: o.maxCallCameras,
    };
  }

  /** Short-lived TURN credentials, one entry per TURN server. */
  @Get('turn-credentials')
  turn(@CurrentPrincipal() principal: CallsPrincipal): TurnCredentials[] {
    const o = this.options;
    if (o.turnServerUrls.length === 0) throw new ForbiddenError('No TURN server was configured');
    if (!o.turnStaticAuthSecret) throw new ForbiddenError('TURNStaticAuthSecret should be set');
    return [
      turnCredentials(
        o.turnServerUrls,
        o.turnStaticAuthSecret,
        principal.userId,
        o.turnCredentialsTtlMinutes,
      ),
    ];
  }

  /** Every active call in a channel the user may join. */
  @Get('channels')
  async list(@CurrentPrincipal() principal: CallsPrincipal): Promise<ChannelEntry[]> {
    const calls = await this.queries.activeCalls(principal.userId);
    return calls.map((c) => this.entry(c, principal.userId));
  }

  @Get('calls/:channel_id/active')
  async active(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<{ active: boolean }> {
    return { active: (await this.queries.callOfChannel(principal.userId, channelId)) !== null };
  }

  /** Hides the incoming-call notification for this user; tells only this user. */
  @Post('calls/:channel_id/dismiss-notification')
  @HttpCode(200)
  async dismiss(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<typeof SUCCESS> {
    await this.queries.dismissNotification(principal.userId, channelId);
    return SUCCESS;
  }

  @Get(':channel_id')
  async channel(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<ChannelEntry> {
    return this.entry(await this.queries.channel(principal.userId, channelId), principal.userId);
  }

  /** Enables or disables calls in a channel (admins only). */
  @Post(':channel_id')
  @HttpCode(200)
  async setChannel(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: ChannelSettingsDto,
  ): Promise<ChannelEntry> {
    await this.queries.setChannelEnabled(principal, channelId, body.enabled);
    return this.entry({ channelId, enabled: body.enabled, call: null }, principal.userId);
  }

  private entry({ channelId, enabled, call }: ChannelCalls, userId: string): ChannelEntry {
    const entry: ChannelEntry = {
      channel_id: this.wire.id(channelId),
      channel_id_raw: channelId,
      enabled,
    };
    if (call) entry.call = this.wire.callState(call, userId);
    return entry;
  }
}
