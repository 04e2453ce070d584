import type { MediaConsumerLabel, MediaTrack } from '../../media/media-plane.interface';

/**
 * What the SFU writes as an msid id: printable ASCII without whitespace, at most 256 chars
 * (RFC 8830 says 64 token chars; browsers parse anything up to the next space).
 */
const MSID_TOKEN = /^[\x21-\x7e]{1,256}$/;

/**
 * Asks a session's `consumerLabel` how to name a consumer of `track`. A label that cannot be
 * written into an `a=msid` line, or a labeller that throws, gives `undefined` (the default naming
 * is used) and is reported through `refused`.
 */
export function consumerLabelOf(
  label: (track: MediaTrack) => MediaConsumerLabel,
  track: MediaTrack,
  refused: (reason: string) => void,
): MediaConsumerLabel | undefined {
  let result: MediaConsumerLabel;
  try {
    result = label(track);
  } catch (err) {
    refused(`it threw: ${(err as Error).message}`);
    return undefined;
  }
  if (!MSID_TOKEN.test(result.streamId) || !MSID_TOKEN.test(result.trackId)) {
    refused(`not an msid token pair: ${JSON.stringify(result)}`);
    return undefined;
  }
  return { streamId: result.streamId, trackId: result.trackId };
}
