/**
 * A signal the SFU sends to one session. `answer`, `offer` and `candidate` are Mattermost's
 * `signal.data` kinds (stock clients act on them); `ice-state` and `connection-state` are the
 * seed's extensions for RustChat's own client (stock clients ignore or reject them).
 */
export type SfuSignal =
  | { type: 'answer'; sdp: string }
  | { type: 'offer'; sdp: string }
  | {
      type: 'candidate';
      candidate: {
        candidate: string;
        sdpMid: string;
        sdpMLineIndex: number;
        usernameFragment?: string;
      };
    }
  /** mediasoup's ICE state of the session's transport (`new`, `connected`, `completed`, `disconnected`, `closed`). */
  | { type: 'ice-state'; state: string }
  /** The DTLS state mapped to `connecting`, `connected`, `failed` or `closed`. */
  | { type: 'connection-state'; state: string };

/** Which session (and call and user) an SFU event is about. */
export interface SfuSessionRef {
  callId: string;
  sessionId: string;
  userId: string;
}

/** Who restarted a session's ICE: the server (it lost the path) or the client. */
export type IceRestartInitiator = 'server' | 'client';

/** How a session's media starts. */
export interface SfuSessionOptions {
  /** Voice producers start paused (forwarding nothing) until `setAudioMuted(false)`. */
  muted?: boolean;
}

/** An ICE candidate as a browser sends it (`RTCIceCandidateInit`). */
export interface ClientIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Why the SFU closed a session by itself. */
export type SfuSessionCloseReason =
  'dtls-failed' | 'dtls-closed' | 'ice-restart-exhausted' | 'signaling-timeout' | 'worker-died';

/** Counts of live mediasoup objects on this instance. */
export interface SfuStats {
  workers: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Pipe transports to and from other instances (media of calls served by several). */
  pipes: number;
}

/** What a session's media is, as Mattermost labels tracks. */
export type SfuMediaType = 'voice' | 'screen' | 'screen-audio' | 'video';

/** The events of {@link SfuService.events}, as `name: [arguments]`. */
export interface SfuEvents {
  /** A signal to deliver to the session's client. */
  signal: [ref: SfuSessionRef, signal: SfuSignal];
  /** Voice activity of the session's microphone changed. */
  voice: [ref: SfuSessionRef, speaking: boolean];
  /** The SFU closed the session by itself (not after `closeSession`/`closeCall`). */
  'session-closed': [ref: SfuSessionRef, reason: SfuSessionCloseReason];
  /** The session's ICE was restarted, by the server (path lost) or by its client. */
  'ice-restart': [ref: SfuSessionRef, initiator: IceRestartInitiator];
}

/** Listener object for {@link SfuService.subscribe} (the signaling layer's `MediaPlaneListener`). */
export interface SfuListener {
  signal(ref: SfuSessionRef, signal: SfuSignal): void;
  voice(ref: SfuSessionRef, speaking: boolean): void;
  sessionClosed(ref: SfuSessionRef, reason: string): void;
}
