import {
  type AddTrackRequest,
  SessionDescription,
  SignalTarget,
  type TrackInfo,
  TrackSource,
} from '@livekit/protocol';
import { InvalidMessageError } from '../errors/invalid-message.error';
import type {
  MediaIceCandidate,
  MediaOfferTrack,
  MediaPlane,
  MediaSessionCloseReason,
  MediaSignal,
  MediaTrack,
} from '../media/media-plane.interface';
import { LiveKitIds } from '../protocol/livekit/livekit-ids';
import { trackSidOf } from '../protocol/livekit/media-tracks';
import { trackInfo } from '../protocol/livekit/participant-info.builder';
import type { TrackView } from '../protocol/livekit/participant-view';
import type {
  LiveKitMediaEvents,
  LiveKitMediaSession,
  LiveKitMediaSessionRef,
} from './livekit-media-session.interface';

/** The media session id of a participant's subscriber connection. */
export const subscriberSessionId = (sessionId: string): string => `${sessionId}:sub`;

/**
 * One LiveKit participant's media on the media port: its publisher connection is the session's
 * own media session (opened by the core at join, `publish`, with LiveKit's data channels), its
 * subscriber connection a `subscribe` session `<session>:sub` owned by it, opened and closed here.
 * Publisher offers are answered with the offer's `id`; subscriber offers are numbered and carry
 * `mid_to_track_id`; candidates go to the connection their `target` names; announced tracks
 * (`add_track`, where the grants are checked) become published when their media arrives, and
 * media nobody announced is not forwarded. Without the `canSubscribe` grant there is no
 * subscriber connection.
 */
export class LiveKitMediaBinding implements LiveKitMediaSession {
  readonly subscriberId: string;
  private offers = 0;
  private offerTracks: readonly MediaOfferTrack[] = [];
  /** Set while a publisher offer is being answered: takes the `answer` signal. */
  private answer: ((sdp: string) => void) | null = null;
  /** Publisher candidates held until the answer they belong to went out. */
  private held: string[] | null = null;
  /** Announced tracks (`add_track`), by client track id. */
  private readonly announced = new Map<string, TrackView>();
  /** Tracks whose media arrived, by producer id. */
  private readonly published = new Map<string, TrackView>();
  private closing: Promise<void> | null = null;
  /** Resolves once the subscriber session is open (rejects if it could not open). */
  readonly subscriberReady: Promise<void>;

  constructor(
    readonly ref: LiveKitMediaSessionRef,
    private readonly events: LiveKitMediaEvents,
    private readonly media: MediaPlane,
    /** Settles once the previous binding of the same session closed its subscriber. */
    previous: Promise<void>,
    /** Called once it closed (its ids are free again). */
    private readonly forget: () => void,
  ) {
    this.subscriberId = subscriberSessionId(ref.sessionId);
    this.subscriberReady = previous.then(() =>
      ref.grants.canSubscribe ? this.openSubscriber() : undefined,
    );
    this.subscriberReady.catch((err: unknown) => {
      if (!this.closing) this.events.closed(`subscriber did not open: ${(err as Error).message}`);
    });
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  async handlePublisherOffer(offer: SessionDescription): Promise<SessionDescription> {
    let sdp: string | null = null;
    this.answer = (s) => (sdp = s);
    this.held = [];
    try {
      await this.media.handleDescription(this.ref.sessionId, { type: 'offer', sdp: offer.sdp });
    } finally {
      this.answer = null;
      const held = this.held;
      this.held = null;
      // After the answer went out (the caller sends it when this resolves).
      setImmediate(() => {
        for (const c of held) this.events.candidate(SignalTarget.PUBLISHER, c);
      });
    }
    if (sdp === null) throw new Error('the publisher offer was not answered');
    return new SessionDescription({ type: 'answer', sdp, id: offer.id });
  }

  async handleSubscriberAnswer(answer: SessionDescription): Promise<void> {
    // An answer to an offer that a newer one replaced is stale (LiveKit numbers them).
    if (this.offers === 0 || (answer.id !== 0 && answer.id !== this.offers)) return;
    await this.subscriberReady;
    await this.media.handleDescription(this.subscriberId, { type: 'answer', sdp: answer.sdp });
  }

  async addCandidate(target: SignalTarget, candidateInit: string, _final: boolean): Promise<void> {
    const candidate = parseCandidate(candidateInit);
    // The server is ICE-lite: the end of candidates (`final`, an empty one) changes nothing.
    if (!candidate || candidate.candidate === '') return;
    if (target === SignalTarget.SUBSCRIBER) {
      if (!this.ref.grants.canSubscribe) return;
      await this.subscriberReady;
      await this.media.addIceCandidate(this.subscriberId, candidate);
    } else {
      await this.media.addIceCandidate(this.ref.sessionId, candidate);
    }
  }

  addTrack(request: AddTrackRequest, track: TrackView): Promise<TrackInfo> {
    this.announced.set(request.cid, track);
    return Promise.resolve(trackInfo(track));
  }

  async setTrackMuted(trackSid: string, muted: boolean): Promise<void> {
    const track = [...this.announced.values()].find((t) => t.sid === trackSid);
    if (!track || track.source === TrackSource.MICROPHONE) return;
    await this.media.setTrackPaused(this.ref.sessionId, track.cid, muted);
  }

  sendData(label: string, payload: Uint8Array): boolean {
    return !this.closing && this.media.sendData(this.ref.sessionId, label, payload);
  }

  /** The announced track of a client track id, if any. */
  announcedTrack(cid: string): TrackView | undefined {
    return this.announced.get(cid);
  }

  close(): Promise<void> {
    this.closing ??= this.subscriberReady
      .catch(() => undefined)
      .then(() =>
        this.ref.grants.canSubscribe ? this.media.closeSession(this.subscriberId) : undefined,
      )
      .finally(() => this.forget());
    return this.closing;
  }

  /** A media signal for the publisher (`publisher`) or the subscriber connection. */
  signal(connection: 'publisher' | 'subscriber', signal: MediaSignal): void {
    if (this.closing) return;
    if (connection === 'publisher') {
      if (signal.type === 'answer') this.answer?.(signal.sdp);
      else if (signal.type === 'candidate') {
        const init = JSON.stringify(signal.candidate);
        if (this.held) this.held.push(init);
        else this.events.candidate(SignalTarget.PUBLISHER, init);
      }
      return;
    }
    if (signal.type === 'offer') this.sendOffer(signal.sdp);
    else if (signal.type === 'candidate') {
      this.events.candidate(SignalTarget.SUBSCRIBER, JSON.stringify(signal.candidate));
    }
  }

  /** The consumers of the subscriber offer about to be signalled. */
  offering(tracks: readonly MediaOfferTrack[]): void {
    this.offerTracks = tracks;
  }

  /**
   * A track of this participant started: an announced one is now published; one its client
   * never announced (so no grant allowed it) is paused and shown to nobody.
   */
  trackAdded(track: MediaTrack): void {
    if (this.closing) return;
    const announced = this.announced.get(track.clientTrackId);
    if (!announced) {
      this.media.setTrackPaused(this.ref.sessionId, track.producerId, true).catch(() => undefined);
      return;
    }
    this.published.set(track.producerId, announced);
    this.events.trackPublished(announced);
  }

  /** A track of this participant ended. */
  trackRemoved(producerId: string): void {
    const view = this.published.get(producerId);
    if (!view || !this.published.delete(producerId) || this.closing) return;
    this.events.trackUnpublished(view.sid);
  }

  /** Data from the client on one of its channels. */
  data(label: string, payload: Uint8Array): void {
    if (!this.closing) this.events.data(label, payload);
  }

  /** The media port closed one of the two connections by itself. */
  failed(reason: MediaSessionCloseReason): void {
    if (!this.closing) this.events.closed(reason);
  }

  private sendOffer(sdp: string): void {
    const tracks = this.media.tracksOf(this.ref.callId);
    const offered: MediaTrack[] = [];
    const midToTrackId: Record<string, string> = {};
    for (const { mid, producerId } of this.offerTracks) {
      const track = tracks.find((t) => t.producerId === producerId);
      if (!track) continue;
      offered.push(track);
      midToTrackId[mid] = trackSidOf(track);
    }
    this.offerTracks = [];
    this.events.offering(offered);
    this.events.subscriberOffer(
      new SessionDescription({ type: 'offer', sdp, id: ++this.offers, midToTrackId }),
    );
  }

  private openSubscriber(): Promise<void> {
    if (this.closing) return Promise.resolve();
    const { callId, sessionId, userId } = this.ref;
    return this.media.openSession(
      { callId, sessionId: this.subscriberId, userId },
      {
        direction: 'subscribe',
        ownerSessionId: sessionId,
        consumerLabel: (t) => {
          const sid = trackSidOf(t);
          return { streamId: `${LiveKitIds.participant(t.sessionId)}|${sid}`, trackId: sid };
        },
      },
    );
  }
}

/**
 * A trickled `RTCIceCandidateInit` (JSON), or null when it is not one.
 * @throws InvalidMessageError when it is not JSON
 */
function parseCandidate(json: string): MediaIceCandidate | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidMessageError('candidateInit', 'not JSON');
  }
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  if (typeof c.candidate !== 'string') return null;
  return {
    candidate: c.candidate,
    sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : null,
    sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : null,
    usernameFragment: typeof c.usernameFragment === 'string' ? c.usernameFragment : null,
  };
}
