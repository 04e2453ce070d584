import { IsString, Length } from 'class-validator';

/** Data naming a channel (`call_state`). */
export class ChannelDto {
  @IsString()
  @Length(1, 128)
  channelID!: string;
}
