import { Inject, Optional } from '@nestjs/common';
import type {
  AddTrackRequest,
  SessionDescription,
  SignalTarget,
  TrackInfo,
  UpdateSubscription,
  UpdateTrackSettings,
} from '@livekit/protocol';
import type { MediaTrack } from '../media/media-plane.interface';
import type { LiveKitGrants } from '../protocol/livekit/livekit-grants';
import type { TrackView } from '../protocol/livekit/participant-view';

/** Which session a LiveKit media session serves. */
export interface LiveKitMediaSessionRef {
  readonly callId: string;
  readonly channelId: string;
  readonly sessionId: string;
  readonly userId: string;
  /** `PA_<sessionId>`: subscribed tracks carry msid `<participant sid>|<track sid>`. */
  readonly participantSid: string;
  readonly grants: LiveKitGrants;
}

/** What a LiveKit session's media tells its signaling. */
export interface LiveKitMediaEvents {
  /**
   * An offer on the subscriber peer connection (the server offers there: dual-PC mode). Its `id`
   * numbers the offers; subscribed tracks carry msid `PA_x|TR_y` and `mid_to_track_id`.
   */
  subscriberOffer(offer: SessionDescription): void;
  /**
   * The tracks the next subscriber offer carries, right before it goes out: the client must
   * have been told of each (an `update` listing it) before it sees the offer.
   */
  offering(tracks: readonly MediaTrack[]): void;
  /** A server ICE candidate (JSON of an `RTCIceCandidateInit`) for one of the two connections. */
  candidate(target: SignalTarget, candidateInit: string): void;
  /** Media of a track announced by `addTrack` arrived: the room now shows it. */
  trackPublished(track: TrackView): void;
  /** A published track ended (its m-line left the publisher offer, or its producer closed). */
  trackUnpublished(trackSid: string): void;
  /** A data packet the client sent on one of its data channels (`_lossy`, `_reliable`, …). */
  data(label: string, payload: Uint8Array): void;
  /** The media closed by itself (ICE or DTLS failed); the session leaves the call. */
  closed(reason: string): void;
}

/**
 * The media of one LiveKit participant, as its signaling needs it (dual-PC, LiveKit's v0 path: a
 * publisher connection the client offers on, a subscriber connection the server offers on). The
 * signaling routes the WebRTC requests here; the implementation is the media port's.
 */
export interface LiveKitMediaSession {
  /** Answers an offer on the publisher connection; the answer carries the offer's `id`. */
  handlePublisherOffer(offer: SessionDescription): Promise<SessionDescription>;
  /** Applies the client's answer to the subscriber offer with the same `id`. */
  handleSubscriberAnswer(answer: SessionDescription): Promise<void>;
  /**
   * A trickled client candidate (`candidateInit`: JSON of an `RTCIceCandidateInit`) for one of the
   * two connections; `final` ends the candidates.
   */
  addCandidate(target: SignalTarget, candidateInit: string, final: boolean): Promise<void>;
  /**
   * A track the client is about to publish. `track` is what the signaling assigned (sid `TR_…`,
   * source, name, muted); the media binds the publisher m-line whose msid track id is
   * `request.cid` and returns the `TrackInfo` of `track_published` (with what it adds: mime type,
   * mid, codecs, layers).
   */
  addTrack(request: AddTrackRequest, track: TrackView): Promise<TrackInfo>;
  /**
   * Pauses or resumes the forwarding of a published track (mute). The microphone's follows the
   * session's mute (the core's), not this.
   */
  setTrackMuted(trackSid: string, muted: boolean): Promise<void>;
  /**
   * A subscriber's `track_setting`: how it shows other participants' video tracks (hidden, the
   * size of its element, a quality); the forwarded simulcast layer follows.
   */
  setTrackSettings(settings: UpdateTrackSettings): Promise<void>;
  /** A subscriber's `subscription`: tracks it does not subscribe to are not forwarded. */
  setSubscriptions(update: UpdateSubscription): Promise<void>;
  /**
   * Sends a data packet (an encoded `DataPacket`) to the client on its data channel `label`.
   * @returns false when it cannot (the channel is not up)
   */
  sendData(label: string, payload: Uint8Array): boolean;
  /** Closes both connections. */
  close(): Promise<void>;
}

/** Opens the media of LiveKit participants. */
export interface LiveKitMedia {
  open(ref: LiveKitMediaSessionRef, events: LiveKitMediaEvents): Promise<LiveKitMediaSession>;
}

/**
 * Injection token of {@link LiveKitMedia} (the module provides `LiveKitMediaService`); without
 * it the LiveKit endpoint serves signaling only (WebRTC requests are refused or ignored).
 */
export const LiveKitMedia = Symbol('LiveKitMedia');

/** Injects the {@link LiveKitMedia}, or null when none is provided. */
export const InjectLiveKitMedia = (): ParameterDecorator => (target, key, index) => {
  Inject(LiveKitMedia)(target, key, index);
  Optional()(target, key, index);
};
