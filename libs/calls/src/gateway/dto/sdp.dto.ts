import { IsDefined } from 'class-validator';

/**
 * `custom_com.mattermost.calls_sdp` data: `data` is zlib-compressed JSON bytes (Mattermost), JSON
 * text or the description object; decoded and size-checked by `decodeSessionDescription`.
 */
export class SdpDto {
  @IsDefined()
  data!: unknown;
}
