import { Inject } from '@nestjs/common';

/** A signal the media plane sends to one session (Mattermost `signal.data`, plus the seed's kinds). */
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
  | { readonly type: 'ice-state'; readonly state: string }
  | { readonly type: 'connection-state'; readonly state: string };

/** Which session a media event is about. */
export interface MediaSessionRef {
  readonly callId: string;
  readonly sessionId: string;
  readonly userId: string;
}

/** How a session's media starts. */
export interface MediaSessionOptions {
  /**
   * The session starts muted (a Mattermost session joins muted): voice it sends is not forwarded
   * until `setAudioMuted(sessionId, false)`. Default `false`.
   */
  readonly muted?: boolean;
}

/** An ICE candidate as a browser sends it. */
export interface MediaIceCandidate {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
  readonly usernameFragment?: string | null;
}

/** Listeners of the media plane's events. */
export interface MediaPlaneListener {
  /** A signal for one session (answer, offer, candidate, ice-state, connection-state). */
  signal(ref: MediaSessionRef, signal: MediaSignal): void;
  /** Voice activity of a session changed. */
  voice(ref: MediaSessionRef, speaking: boolean): void;
  /** The media plane closed a session by itself (ICE/DTLS failed, restarts exhausted, …). */
  sessionClosed(ref: MediaSessionRef, reason: string): void;
}

/**
 * Seam between signaling and media: what the signaling layer asks of the SFU. `SfuService`
 * implements it; a unit test may give a fake.
 */
export interface MediaPlane {
  /** Opens a session's media; with `muted`, its voice is not forwarded until unmuted. */
  openSession(ref: MediaSessionRef, options?: MediaSessionOptions): Promise<void>;
  handleDescription(
    sessionId: string,
    description: { type: 'offer' | 'answer'; sdp: string },
  ): Promise<void>;
  addIceCandidate(sessionId: string, candidate: MediaIceCandidate): Promise<void>;
  setAudioMuted(sessionId: string, muted: boolean): Promise<void>;
  setScreenStream(sessionId: string, streamId: string | null): void;
  closeSession(sessionId: string): Promise<void>;
  closeCall(callId: string): Promise<void>;
  hasSession(sessionId: string): boolean;
  /** Registers the listener; returns a function that removes it. */
  subscribe(listener: MediaPlaneListener): () => void;
}

/** Injection token of {@link MediaPlane}. */
export const MediaPlane = Symbol('MediaPlane');

/** Injects the {@link MediaPlane}. */
export const InjectMediaPlane = (): ParameterDecorator => Inject(MediaPlane);
