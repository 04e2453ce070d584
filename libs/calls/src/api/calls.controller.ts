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
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { ForbiddenError } from '../errors/forbidden.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallsBroadcaster } from '../gateway/calls-broadcaster';
import { MattermostWire, type MattermostCallState } from '../protocol/mattermost/mattermost-wire';
import { MATTERMOST_PROTOCOL_VERSION } from '../gateway/signaling.gateway';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import { DepthLimitedValidationPipe } from '../gateway/depth-limited-validation.pipe';
import { CallsAuthGuard } from './calls-auth.guard';
import { CallsHttpExceptionFilter } from './calls-http-exception.filter';
import { CALLS_ROUTE_PREFIXES } from './calls-routes';
import { ChannelIdPipe } from './channel-id.pipe';
import { CurrentPrincipal, Public } from './current-principal.decorator';
import { ChannelSettingsDto } from './dto';
import { SUCCESS } from './http-errors';
import { turnCredentials, type TurnCredentials } from './turn-credentials';

/** A channel's calls entry (`GET /{channel_id}`, `GET /channels`). */
interface ChannelEntry {
  channel_id: string;
  channel_id_raw: string;
  enabled: boolean;
  call?: MattermostCallState;
}

/** Mattermost Calls plugin REST API used by clients (general routes). */
@Controller(CALLS_ROUTE_PREFIXES)
@UseGuards(CallsAuthGuard)
@UseFilters(CallsHttpExceptionFilter)
@UsePipes(new DepthLimitedValidationPipe({ whitelist: true, transform: true }))
export class CallsController {
  private readonly wire: MattermostWire;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly channels: ChannelSettingsStore,
    private readonly broadcaster: CallsBroadcaster,
  ) {
    this.wire = new MattermostWire(options.idCodec);
  }

  /** Plugin version: ≥ 0.21.0 (multi-session clients), < 1.7.0 (no data-channel signaling locks). */
  @Get('version')
  @Public()
  version(): { version: string; build: string } {
    return { version: MATTERMOST_PROTOCOL_VERSION, build: 'calls-for-chat-servers' };
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
      EnableSimulcast: false,
      EnableRinging: false,
      sku_short_name: 'professional',
      HostControlsAllowed: true,
      EnableAV1: false,
      GroupCallsAllowed: true,
      EnableDCSignaling: false,
      EnableVideo: false,
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
    const calls = await this.state.listActiveCalls();
    const entries: ChannelEntry[] = [];
    for (const call of calls) {
      if (!(await this.options.permissions.canJoinChannel(principal.userId, call.channelId)))
        continue;
      entries.push({
        channel_id: this.wire.id(call.channelId),
        channel_id_raw: call.channelId,
        enabled: await this.channels.isEnabled(call.channelId),
        call: this.wire.callState(call, principal.userId),
      });
    }
    return entries;
  }

  @Get('calls/:channel_id/active')
  async active(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<{ active: boolean }> {
    await this.assertMember(principal, channelId);
    return { active: (await this.state.getCallByChannel(channelId)) !== null };
  }

  /** Hides the incoming-call notification for this user; tells only this user. */
  @Post('calls/:channel_id/dismiss-notification')
  @HttpCode(200)
  async dismiss(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<typeof SUCCESS> {
    await this.assertMember(principal, channelId);
    const call = await this.state.getCallByChannel(channelId);
    if (!call) throw new CallNotFoundError(`channel:${channelId}`);
    await this.state.dismissNotification(call.id, principal.userId);
    this.broadcaster.toUser(
      principal.userId,
      'user_dismissed_notification',
      { userID: this.wire.id(principal.userId), callID: this.wire.id(call.id) },
      channelId,
    );
    return SUCCESS;
  }

  @Get(':channel_id')
  async channel(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<ChannelEntry> {
    await this.assertMember(principal, channelId);
    const call = await this.state.getCallByChannel(channelId);
    const entry: ChannelEntry = {
      channel_id: this.wire.id(channelId),
      channel_id_raw: channelId,
      enabled: await this.channels.isEnabled(channelId),
    };
    if (call) entry.call = this.wire.callState(call, principal.userId);
    return entry;
  }

  /** Enables or disables calls in a channel (admins only). */
  @Post(':channel_id')
  @HttpCode(200)
  async setChannel(
    @CurrentPrincipal() principal: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: ChannelSettingsDto,
  ): Promise<ChannelEntry> {
    const admin =
      principal.isAdmin === true || (await this.options.permissions.isAdmin(principal.userId));
    if (!admin) throw new ForbiddenError('Forbidden');
    await this.channels.setEnabled(channelId, body.enabled);
    return {
      channel_id: this.wire.id(channelId),
      channel_id_raw: channelId,
      enabled: body.enabled,
    };
  }

  private async assertMember(principal: CallsPrincipal, channelId: string): Promise<void> {
    if (!(await this.options.permissions.canJoinChannel(principal.userId, channelId))) {
      throw new ForbiddenError('Forbidden');
    }
  }
}
