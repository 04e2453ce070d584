import { IsOptional, IsString, Length } from 'class-validator';

/** `POST livekit-token` body (Mattermost's newest route). */
export class LiveKitSessionDto {
  @IsString()
  @Length(1, 128)
  channel_id!: string;

  @IsOptional()
  @IsString()
  @Length(0, 256)
  title?: string;

  @IsOptional()
  @IsString()
  @Length(0, 128)
  thread_id?: string;

  @IsOptional()
  @IsString()
  @Length(0, 128)
  job_id?: string;
}
