import type { types as ms } from 'mediasoup';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import type { AcceptedSendSection } from '../sdp/send-section.acceptor';
import type {
  MediaSessionRef,
  MediaTrack,
  MediaTrackType,
  MediaVideoLayer,
} from '../../media/media-plane.interface';

/**
 * App data of the SFU's producers (copied to the other instances with piped producers, so an
 * older instance's copies may lack the newer fields).
 */
export interface SfuProducerAppData extends ms.AppData {
  /** The participant's session that sends it (the media session's `ownerSessionId`). */
  sessionId: string;
  userId: string;
  mid: string;
  /** The client's MediaStream id of the track (`a=msid`). */
  streamId: string;
  /** The client's MediaStreamTrack id of the track (`a=msid`; empty without one). */
  trackId?: string;
  type: MediaTrackType;
  /** A video track's simulcast layers as its sender described them (lowest first). */
  layers?: MediaVideoLayer[];
}

/** A producer of a call as the media port's {@link MediaTrack}. */
export function producerTrack(callId: string, producer: ms.Producer): MediaTrack {
  const appData = producer.appData as Partial<SfuProducerAppData>;
  return {
    producerId: producer.id,
    callId,
    sessionId: appData.sessionId ?? '',
    userId: appData.userId ?? '',
    kind: producer.kind,
    type: appData.type ?? (producer.kind === 'audio' ? 'voice' : 'video'),
    clientTrackId: appData.trackId ?? '',
    streamId: appData.streamId ?? '',
    mid: appData.mid ?? '',
    paused: producer.paused,
  };
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
  /** The participant's session the producer is attributed to (see {@link SfuProducerAppData}). */
  readonly ownerSessionId: string;
  readonly mid: string;
  readonly kind: 'audio' | 'video';
  readonly streamId: string;
  /** The client's track id (`a=msid`; empty without one). */
  readonly trackId: string;
  readonly accepted: AcceptedSendSection;
  readonly screenStreamId: string | null;
  /** The layers the sender described for this track (video only). */
  readonly layers?: readonly MediaVideoLayer[];
  /** Whether a producer of this type, track id and stream id starts paused (muted). */
  readonly paused: (type: MediaTrackType, trackId: string, streamId: string) => boolean;
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
      paused: spec.paused(type, spec.trackId, spec.streamId),
      appData: {
        sessionId: spec.ownerSessionId,
        userId: spec.ref.userId,
        mid: spec.mid,
        streamId: spec.streamId,
        trackId: spec.trackId,
        type,
        ...(spec.kind === 'video' && spec.layers ? { layers: [...spec.layers] } : {}),
      },
    })
    .catch((err: unknown) => {
      if (transport.closed) throw err;
      throw new InvalidSdpError(`cannot receive section ${spec.mid}: ${(err as Error).message}`);
    });
}
