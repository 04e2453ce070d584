import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * `custom_com.mattermost.calls_ice` data: `data` is the JSON string of a browser RTCIceCandidate
 * (Mattermost); alternatively `candidate` is a raw `candidate:` line with `sdpMid`/`sdpMLineIndex`.
 */
export class IceDto {
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  data?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  candidate?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  sdpMid?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  sdpMLineIndex?: number;
}
