import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** `custom_com.mattermost.calls_metric` data. */
export class MetricDto {
  @IsString()
  @Matches(/^[a-z0-9_]{1,64}$/)
  metric_name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  data?: string;
}
