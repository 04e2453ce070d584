import { IsBoolean, IsObject, IsOptional, IsString, Length } from 'class-validator';

/** `POST /{channel_id}` body. */
export class ChannelSettingsDto {
  @IsBoolean()
  enabled!: boolean;

  @IsOptional()
  @IsObject()
  props?: Record<string, unknown>;
}

/** `POST /calls/{channel_id}/host/make` body. */
export class MakeHostDto {
  @IsString()
  @Length(1, 128)
  new_host_id!: string;
}

/** Host control bodies that name a session. */
export class SessionTargetDto {
  @IsString()
  @Length(1, 128)
  session_id!: string;
}
