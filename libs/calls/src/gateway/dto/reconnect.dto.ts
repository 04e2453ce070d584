import { IsOptional, IsString, Length } from 'class-validator';

/** `custom_com.mattermost.calls_reconnect` data. */
export class ReconnectDto {
  @IsString()
  @Length(1, 128)
  channelID!: string;

  /** The session id (connection id at join). */
  @IsString()
  @Length(1, 128)
  originalConnID!: string;

  /** The connection id before this reconnect. */
  @IsOptional()
  @IsString()
  @Length(0, 128)
  prevConnID?: string;
}
