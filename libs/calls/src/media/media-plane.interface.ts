import { Inject } from '@nestjs/common';

/**
 * A signal the media plane sends to one session. `answer`, `offer` and `candidate` are
 * Mattermost's `signal.data` kinds (stock clients act on them); `ice-state` and
 * `connection-state` are the seed's extensions for RustChat's own client (stock clients ignore or
 * reject them).
 */
export type MediaSignal =
  | { readonly type: 'answer'; readonly sdp: string }
  | { readonly type: 'offer'; readonly sdp: string }
  | {
      readonly type: 'candidate';
      readonly candidate: {
        readonly candidate: string;
        readonly sdpMid: string;
        readonly sdpMLineIndex: number;
        readonly usernameFragment?: string;
      };
    }
  /** The ICE state of the session's transport (`new`, `connected`, `completed`, `disconnected`, `closed`). */
  | { readonly type: 'ice-state'; readonly state: string }
  /** The DTLS state mapped to `connecting`, `connected`, `failed` or `closed`. */
  | { readonly type: 'connection-state'; readonly state: string };

/** Which session (and call and user) a media event is about. */
export interface MediaSessionRef {
  readonly callId: string;
  readonly sessionId: string;
  readonly userId: string;
}

/**
 * Which way a session's media goes.
 * - `both`: one connection that sends and receives (Mattermost). The client offers what it sends;
 *   the server answers, and offers the others' tracks itself (glare handled).
 * - `publish`: the client's sending connection (LiveKit's publisher PC). The client offers its
 *   tracks and data channels; the server only answers. It never receives the others' tracks here
 *   and never sends an offer: no server-initiated ICE restart (the client restarts ICE with an
 *   offer), and after a media worker death the session is closed (`worker-died`).
 * - `subscribe`: the client's receiving connection (LiveKit's subscriber PC). The server offers the
 *   call's tracks (its first offer goes out once there is a track to receive); the client answers.
 *   A client offer that sends media (an audio/video section `sendonly`/`sendrecv`) is refused with
 *   `InvalidSdpError`; nothing of it is applied.
 */
export type MediaSessionDirection = 'both' | 'publish' | 'subscribe';

/** How a consumer is named in a session's SDP: `a=msid:<streamId> <trackId>`. */
export interface MediaConsumerLabel {
  /** The MediaStream id the client sees (no whitespace). */
  readonly streamId: string;
  /** The MediaStreamTrack id the client sees (no whitespace). */
  readonly trackId: string;
}

/** How a session's media starts. */
export interface MediaSessionOptions {
  /**
   * The session starts muted (a Mattermost session joins muted): voice it sends is not forwarded
   * until `setAudioMuted(sessionId, false)`.
   * @default false
   */
  readonly muted?: boolean;
  /**
   * Which way the session's media goes ({@link MediaSessionDirection}).
   * @default 'both'
   */
  readonly direction?: MediaSessionDirection;
  /**
   * The participant's session this media session belongs to: its producers carry this id
   * ({@link MediaTrack.sessionId}), and it never receives the tracks of this id. A participant
   * with two connections opens the `publish` one under its own session id and the `subscribe` one
   * under another id with `ownerSessionId` set to the first, so it never gets its own tracks back.
   * @default the session's own id
   */
  readonly ownerSessionId?: string;
  /**
   * How the session's consumers are named in its SDP. Called whenever a track is placed in one of
   * the session's m-sections, also when a section is reused for another producer of the same
   * sender's section (a re-created track gets the label its own identity gives it). An empty
   * label or one with whitespace falls back to the default.
   * @default `<type>_<publisher session id>` and `<type>_<publisher session id>_<8 hex>`
   *   (what Mattermost clients expect)
   */
  readonly consumerLabel?: (track: MediaTrack) => MediaConsumerLabel;
  /**
   * The labels of the data channels the client opens in-band (DCEP) on this session, in the
   * order it creates them: LiveKit's publisher is `['_lossy', '_reliable', '_data_track']`. The
   * order is what names a channel: the `k`-th label is the client's SCTP stream `2k` (the client
   * is the DTLS client, as browsers are here) or `2k + 1`; the client's DCEP OPEN, which would
   * name it, never reaches the server (mediasoup drops it). Messages on them reach the `data`
   * listener, and {@link MediaPlane.sendData} answers on them (reliable and ordered). Without
   * it, the session's one data channel is Mattermost's `calls-dc` (pings answered, nothing
   * relayed).
   * @default none (Mattermost's `calls-dc`)
   */
  readonly dataChannels?: readonly string[];
}

/** What a session's track is, as Mattermost labels tracks. */
export type MediaTrackType = 'voice' | 'screen' | 'screen-audio' | 'video';

/**
 * A track a participant sends into a call: one producer, of a session served on this instance or
 * piped in from another instance serving the call. Its `producerId` is its identity; after the
 * media worker of the call died, the client's tracks come back as new producers (a
 * `trackRemoved`, then a `trackAdded` with the same `clientTrackId`).
 */
export interface MediaTrack {
  readonly producerId: string;
  readonly callId: string;
  /** The session that sends it (its `ownerSessionId`). */
  readonly sessionId: string;
  readonly userId: string;
  readonly kind: 'audio' | 'video';
  /**
   * Mattermost's label; `screen`/`screen-audio` follow `setScreenStream`, anything else is
   * `voice` (audio) or `video`. Read when the event fires; no event follows a relabelling.
   */
  readonly type: MediaTrackType;
  /**
   * The track id of the `a=msid` line of the sender's m-section (the browser's
   * `MediaStreamTrack.id`, LiveKit's `AddTrackRequest.cid`); empty when the section had none.
   */
  readonly clientTrackId: string;
  /** The MediaStream id of the sender's `a=msid` (the m-section's mid when it had none). */
  readonly streamId: string;
  /** The mid of the sender's m-section. */
  readonly mid: string;
  /** Whether forwarding is paused (muted). */
  readonly paused: boolean;
}

/** One consumer a server offer carries: the m-section and the producer it forwards. */
export interface MediaOfferTrack {
  readonly mid: string;
  readonly producerId: string;
}

/** An ICE candidate as a browser sends it (`RTCIceCandidateInit`). */
export interface MediaIceCandidate {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
  readonly usernameFragment?: string | null;
}

/** Who restarted a session's ICE: the server (it lost the path) or the client. */
export type IceRestartInitiator = 'server' | 'client';

/** Why the media plane closed a session by itself. */
export type MediaSessionCloseReason =
  'dtls-failed' | 'dtls-closed' | 'ice-restart-exhausted' | 'signaling-timeout' | 'worker-died';

/**
 * Listener of the media plane's events ({@link MediaPlane.subscribe}). Listeners run
 * synchronously; one that throws is logged and disturbs neither the media plane nor the others.
 */
export interface MediaPlaneListener {
  /** A signal for one session (answer, offer, candidate, ice-state, connection-state). */
  signal(ref: MediaSessionRef, signal: MediaSignal): void;
  /** Voice activity of a session changed. */
  voice(ref: MediaSessionRef, speaking: boolean): void;
  /**
   * The media plane closed a session by itself (ICE/DTLS failed, restarts exhausted, …); not
   * after `closeSession`/`closeCall`.
   */
  sessionClosed(ref: MediaSessionRef, reason: MediaSessionCloseReason): void;
  /** A session's ICE was restarted, by the server (path lost) or by its client. */
  iceRestart?(ref: MediaSessionRef, initiator: IceRestartInitiator): void;
  /**
   * The consumers the server offer about to be sent to the session carries (every m-section
   * that sends; inactive ones are left out). Emitted synchronously right before that `offer`
   * signal; kept out of the signal so that protocols forwarding signals as they are (Mattermost)
   * see no change.
   */
  offerTracks?(ref: MediaSessionRef, tracks: readonly MediaOfferTrack[]): void;
  /**
   * A track started in a call served here (a local session's producer, or one piped in from
   * another instance). Emitted before any session receives it.
   */
  trackAdded?(callId: string, track: MediaTrack): void;
  /** A track ended (its sender stopped it or left, or the call closed here). */
  trackRemoved?(callId: string, producerId: string): void;
  /** A track was paused (muted) or resumed. */
  trackPaused?(callId: string, producerId: string, paused: boolean): void;
  /**
   * A message the session's client sent on one of its labelled data channels
   * ({@link MediaSessionOptions.dataChannels}); `binary` is false for a string message (its
   * UTF-8 bytes).
   */
  data?(ref: MediaSessionRef, label: string, payload: Uint8Array, binary: boolean): void;
}

/**
 * Seam between the application layer and media: what the calls services ask of the SFU.
 * `SfuService` implements it; a unit test may give a fake.
 */
export interface MediaPlane {
  /** Opens a session's media; with `muted`, its voice is not forwarded until unmuted. */
  openSession(ref: MediaSessionRef, options?: MediaSessionOptions): Promise<void>;
  /** Applies a client's offer (answered with an `answer` signal) or answer (to a server offer). */
  handleDescription(
    sessionId: string,
    description: { type: 'offer' | 'answer'; sdp: string },
  ): Promise<void>;
  /** Takes a client's ICE candidate. */
  addIceCandidate(sessionId: string, candidate: MediaIceCandidate): Promise<void>;
  /** Stops (muted) or resumes forwarding the session's voice. */
  setAudioMuted(sessionId: string, muted: boolean): Promise<void>;
  /**
   * Stops (paused) or resumes forwarding one track the session sends, named by its producer id or
   * by its {@link MediaTrack.clientTrackId}. Remembered by client track id: a track that starts
   * later (or is re-created) starts so.
   */
  setTrackPaused(sessionId: string, track: string, paused: boolean): Promise<void>;
  /** The tracks of a call served here, local and piped in. */
  tracksOf(callId: string): MediaTrack[];
  /**
   * Sends a binary message on the session's client data channel of that label (one of its
   * {@link MediaSessionOptions.dataChannels}), reliably and in order.
   * @returns false when it cannot: no such session here, no such label, or the session's SCTP
   *   association is not up (whether the client really opened that channel cannot be seen)
   */
  sendData(sessionId: string, label: string, payload: Uint8Array): boolean;
  /** Names the MediaStream of the session's screen share (`null`: none). */
  setScreenStream(sessionId: string, streamId: string | null): void;
  /**
   * The session's client reconnected (its signaling connection changed): a server offer it has
   * not answered may have been sent to the connection that went away, so it is sent again if it
   * is still unanswered a moment later. Unknown sessions are ignored.
   */
  clientReconnected(sessionId: string): void;
  /** Closes a session's media; no `sessionClosed` event follows. */
  closeSession(sessionId: string): Promise<void>;
  /** Closes every session of a call; no `sessionClosed` events follow. */
  closeCall(callId: string): Promise<void>;
  /** Whether the session has open media here. */
  hasSession(sessionId: string): boolean;
  /** Registers the listener; returns a function that removes it. */
  subscribe(listener: MediaPlaneListener): () => void;
  /** How many media objects are open on this instance (for metrics and health). */
  stats(): MediaStats;
  /** CPU time each media worker process has used so far. */
  workerUsage(): Promise<MediaWorkerUsage[]>;
}

/** Counts of the media plane's open objects on this instance. */
export interface MediaStats {
  workers: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Pipe transports to and from other instances (media of calls served by several). */
  pipes: number;
}

/** CPU time of one media worker process. */
export interface MediaWorkerUsage {
  readonly pid: number;
  readonly cpuSeconds: number;
}

/** Injection token of {@link MediaPlane}. */
export const MediaPlane = Symbol('MediaPlane');

/** Injects the {@link MediaPlane}. */
export const InjectMediaPlane = (): ParameterDecorator => Inject(MediaPlane);
