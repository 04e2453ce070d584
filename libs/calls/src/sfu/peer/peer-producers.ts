import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import type { AcceptedSendSection } from '../sdp/send-section.acceptor';
import type { MediaTrackType, MediaSessionRef } from '../../media/media-plane.interface';

/** App data of the SFU's producers. */
export interface SfuProducerAppData extends ms.AppData {
  sessionId: string;
  userId: string;
  mid: string;
  /** The client's MediaStream id of the track (`a=msid`). */
  streamId: string;
  type: MediaTrackType;
}

/** How Mattermost labels a track: the screen share's MediaStream makes `screen`/`screen-audio`. */
export function mediaType(
  kind: 'audio' | 'video',
  streamId: string,
  screenStreamId: string | null,
): MediaTrackType {
  const screen = screenStreamId !== null && streamId === screenStreamId;
  if (kind === 'video') return screen ? 'screen' : 'video';
  return screen ? 'screen-audio' : 'voice';
}

/** What a producer is created from. */
export interface ProducerSpec {
  readonly ref: MediaSessionRef;
  readonly mid: string;
  readonly kind: 'audio' | 'video';
  readonly streamId: string;
  readonly accepted: AcceptedSendSection;
  readonly screenStreamId: string | null;
  /** Voice producers of a muted session start paused. */
  readonly muted: boolean;
}

/**
 * Creates the producer of a client stream on the session's transport. mediasoup refusing the
 * parameters the client's SDP gave (e.g. an SSRC another section already uses) is the client's
 * error: it becomes an InvalidSdpError, not an internal one.
 */
export async function produce(
  transport: ms.WebRtcTransport,
  spec: ProducerSpec,
): Promise<ms.Producer<SfuProducerAppData>> {
  const type = mediaType(spec.kind, spec.streamId, spec.screenStreamId);
  return transport
    .produce<SfuProducerAppData>({
      kind: spec.kind,
      rtpParameters: spec.accepted.rtpParameters,
      paused: type === 'voice' && spec.muted,
      appData: {
        sessionId: spec.ref.sessionId,
        userId: spec.ref.userId,
        mid: spec.mid,
        streamId: spec.streamId,
        type,
      },
    })
    .catch((err: unknown) => {
      if (transport.closed) throw err;
      throw new InvalidSdpError(`cannot receive section ${spec.mid}: ${(err as Error).message}`);
    });
}
