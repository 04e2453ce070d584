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

/** How a session's media starts. */
export interface MediaSessionOptions {
  /**
   * The session starts muted (a Mattermost session joins muted): voice it sends is not forwarded
   * until `setAudioMuted(sessionId, false)`.
   * @default false
   */
  readonly muted?: boolean;
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

/** What a session's track is, as Mattermost labels tracks. */
export type MediaTrackType = 'voice' | 'screen' | 'screen-audio' | 'video';

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
  /** Names the MediaStream of the session's screen share (`null`: none). */
  setScreenStream(sessionId: string, streamId: string | null): void;
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
