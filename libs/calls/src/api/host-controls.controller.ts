import {
  Body,
  Controller,
  HttpCode,
  Param,
  Post,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { HostControlsService } from '../calls/host-controls.service';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { DepthLimitedValidationPipe } from '../protocol/mattermost/depth-limited-validation.pipe';
import { CallsAuthGuard } from './calls-auth.guard';
import { CallsHttpExceptionFilter } from './calls-http-exception.filter';
import { CALLS_ROUTE_PREFIXES } from './calls-routes';
import { ChannelIdPipe } from './channel-id.pipe';
import { CurrentPrincipal } from './current-principal.decorator';
import { MakeHostDto, SessionTargetDto } from './dto';
import { SUCCESS } from './http-errors';

/**
 * Host controls: `POST /calls/{channel_id}/host/{make,mute,mute-others,screen-off,lower-hand,remove,end}`
 * and the legacy `POST /calls/{channel_id}/end`. Host or admin only (403 otherwise); 400
 * `no call ongoing` when the channel has no call.
 */
@Controller(CALLS_ROUTE_PREFIXES.map((p) => `${p}/calls/:channel_id`))
@UseGuards(CallsAuthGuard)
@UseFilters(CallsHttpExceptionFilter)
@UsePipes(new DepthLimitedValidationPipe({ whitelist: true, transform: true }))
export class HostControlsController {
  constructor(
    private readonly host: HostControlsService,
    private readonly wire: MattermostWire,
  ) {}

  @Post('host/make')
  @HttpCode(200)
  async make(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: MakeHostDto,
  ): Promise<typeof SUCCESS> {
    await this.host.makeHost(
      p,
      channelId,
      this.wire.optionalId(body.new_host_id) ?? body.new_host_id,
    );
    return SUCCESS;
  }

  @Post('host/mute')
  @HttpCode(200)
  async mute(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: SessionTargetDto,
  ): Promise<typeof SUCCESS> {
    await this.host.mute(p, channelId, body.session_id);
    return SUCCESS;
  }

  @Post('host/mute-others')
  @HttpCode(200)
  async muteOthers(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<typeof SUCCESS> {
    await this.host.muteOthers(p, channelId);
    return SUCCESS;
  }

  @Post('host/screen-off')
  @HttpCode(200)
  async screenOff(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: SessionTargetDto,
  ): Promise<typeof SUCCESS> {
    await this.host.screenOff(p, channelId, body.session_id);
    return SUCCESS;
  }

  @Post('host/lower-hand')
  @HttpCode(200)
  async lowerHand(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: SessionTargetDto,
  ): Promise<typeof SUCCESS> {
    await this.host.lowerHand(p, channelId, body.session_id);
    return SUCCESS;
  }

  @Post('host/remove')
  @HttpCode(200)
  async remove(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
    @Body() body: SessionTargetDto,
  ): Promise<typeof SUCCESS> {
    await this.host.remove(p, channelId, body.session_id);
    return SUCCESS;
  }

  @Post(['host/end', 'end'])
  @HttpCode(200)
  async end(
    @CurrentPrincipal() p: CallsPrincipal,
    @Param('channel_id', ChannelIdPipe) channelId: string,
  ): Promise<typeof SUCCESS> {
    await this.host.end(p, channelId);
    return SUCCESS;
  }
}
