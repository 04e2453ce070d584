import { IsBoolean, IsOptional, IsString, Length, MaxLength } from 'class-validator';

/** `custom_com.mattermost.calls_join` data. */
export class JoinDto {
  /** Channel to join the call of (Mattermost id form, or the host's internal form). */
  @IsString()
  @Length(1, 128)
  channelID!: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  title?: string;

  /** Root post to attach the call to. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  threadID?: string;

  @IsOptional()
  @IsBoolean()
  av1Support?: boolean;

  @IsOptional()
  @IsBoolean()
  dcSignaling?: boolean;
}
