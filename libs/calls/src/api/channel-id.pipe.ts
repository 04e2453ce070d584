import { Injectable, type PipeTransform } from '@nestjs/common';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';

/** Validates a channel id path parameter and converts it to the internal form. */
@Injectable()
export class ChannelIdPipe implements PipeTransform<string, string> {
  constructor(private readonly wire: MattermostWire) {}

  transform(value: string): string {
    return this.wire.internalId('channel_id', value);
  }
}
