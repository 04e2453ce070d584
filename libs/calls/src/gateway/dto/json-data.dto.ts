import { IsString, MaxLength } from 'class-validator';

/** Data whose `data` is a JSON string (react, screen_on, video_on). */
export class JsonDataDto {
  @IsString()
  @MaxLength(4096)
  data!: string;
}
