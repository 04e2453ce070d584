import { hostControl, type HostAction } from './api';
import { CallModel } from './call-model';
import type { LinkQuality, StatsEntry } from './quality';

/** The wire protocols the page can join with. */
export type CallProtocol = 'mattermost' | 'livekit';

/** What the person sees of the connection. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

/** While reconnecting: which link is down (the server's socket, the media connection, or both). */
export type ConnectionTrouble = 'server' | 'media' | 'both' | null;

/** What a session tells the page. */
export interface SessionView {
  state(state: ConnectionState, trouble: ConnectionTrouble): void;
  /** The call or this page's own mic/hand/screen state changed. */
  changed(): void;
  /** New connection-quality figures (`quality`, `ownQuality`). */
  measured(): void;
  error(message: string): void;
  notice(message: string): void;
  /** A remote voice to play. */
  remoteTrack(track: MediaStreamTrack): void;
  remoteTrackGone(track: MediaStreamTrack): void;
  roundTrip(ms: number): void;
  /** The session is over (left, removed, call ended or failed); the page goes back to the form. */
  ended(): void;
}

/** Who joins where. */
export interface SessionOptions {
  /** The host app's token (the demo sign-in's). */
  token: string;
  userId: string;
  admin: boolean;
  channel: string;
  /** The chosen microphone ('' = the system default). */
  microphoneId: string;
}

/** A reaction as Mattermost's `EmojiData`. */
export interface Emoji {
  name: string;
  unified: string;
  literal: string;
}

/** Which of a participant's videos. */
export type VideoSource = 'camera' | 'screen';

/**
 * A video the page can show: someone's camera or screen, or this page's own camera. The protocol
 * attaches it to an element itself (LiveKit's adaptive stream, the size a Mattermost page asks
 * the server for).
 */
export interface VideoFeed {
  /** The session whose video it is. */
  readonly sessionId: string;
  readonly source: VideoSource;
  readonly track: MediaStreamTrack;
  /** Shows it in `el` (which the page keeps until `detach`). */
  attach(el: HTMLVideoElement): void;
  detach(el: HTMLVideoElement): void;
}

/** The key of a session's camera or screen in `CallSession.videos`. */
export const videoKey = (sessionId: string, source: VideoSource): string =>
  `${source}:${sessionId}`;

/** A feed of a local stream (this page's own camera or screen): the element plays it. */
export function localFeed(
  sessionId: string,
  source: VideoSource,
  stream: MediaStream,
): VideoFeed | null {
  const track = stream.getVideoTracks()[0];
  if (!track) return null;
  return {
    sessionId,
    source,
    track,
    attach: (el) => {
      el.srcObject = stream;
    },
    detach: (el) => {
      el.srcObject = null;
    },
  };
}

/** How often a session samples its connection quality. */
export const QUALITY_INTERVAL_MS = 2000;

/**
 * One person in one call, whatever the protocol: the call model the page renders, this page's
 * own state (mute, hand, screen), connection quality, and the actions behind the page's buttons.
 * Host controls are the module's REST routes, the same for every protocol.
 */
export abstract class CallSession {
  abstract readonly protocol: CallProtocol;
  readonly model = new CallModel();
  /** This page's session id in the call. */
  sessionId = '';
  muted = true;
  /** Remote participants' connection quality as measured here, by session id. */
  readonly quality = new Map<string, LinkQuality>();
  /** This page's own connection quality. */
  ownQuality: LinkQuality | null = null;
  /** Remote cameras and screens received, by `videoKey`. */
  readonly videos = new Map<string, VideoFeed>();
  /** Whether the server lets participants turn their camera on (its config's `EnableVideo`). */
  videoEnabled = true;
  /** Most cameras on at once in the call (0 = no limit). */
  maxCameras = 0;

  protected constructor(
    readonly options: SessionOptions,
    protected readonly view: SessionView,
  ) {}

  /** True when this page may use host controls (the host, or an admin). */
  get canHost(): boolean {
    return (
      this.options.admin || (this.model.hostId !== '' && this.model.hostId === this.options.userId)
    );
  }

  get handRaised(): boolean {
    return (this.model.participants.get(this.sessionId)?.raisedHand ?? 0) > 0;
  }

  /** True while this page shares its screen. */
  abstract get sharingScreen(): boolean;

  /** This page's own screen capture (for a preview), or null. */
  abstract get screenStream(): MediaStream | null;

  /** True while this page sends its camera. */
  abstract get cameraOn(): boolean;

  /** This page's own camera (for its tile), or null. */
  abstract get cameraStream(): MediaStream | null;

  /**
   * Turns the camera on (asks the browser for it, tells the server) or off.
   * @throws Error with a message for the person (refused by the server, no camera, …)
   */
  abstract setCamera(on: boolean): Promise<void>;

  /** The microphone in use, as the browser reports it, or null before the first unmute. */
  abstract get microphone(): { deviceId: string; label: string } | null;

  /** Mutes or unmutes; the first unmute asks for the microphone. */
  abstract setMuted(muted: boolean): Promise<void>;

  /** Switches to another microphone ('' = the system default). */
  abstract useMicrophone(deviceId: string): Promise<void>;

  abstract setHand(raised: boolean): Promise<void>;

  abstract react(emoji: Emoji): Promise<void>;

  /** Asks the browser for a screen and shares it. */
  abstract startScreen(): Promise<void>;

  abstract stopScreen(): Promise<void>;

  /** Leaves the call (waits for the server to confirm, briefly). */
  abstract leave(): Promise<void>;

  /** The page is going away: leave without waiting. */
  abstract abandon(): void;

  /** Test hook: every statistic of the session's peer connections. */
  abstract stats(): Promise<StatsEntry[]>;

  /**
   * Refuses a camera the call has no room for, before asking the browser or the server (the
   * server enforces it too).
   * @throws Error when cameras are off on this server or the call has as many as it may
   */
  protected checkCameraAllowed(): void {
    if (!this.videoEnabled) throw new Error('Cameras are turned off on this server.');
    const on = [...this.model.participants.values()].filter((p) => p.video).length;
    if (this.maxCameras > 0 && on >= this.maxCameras) {
      throw new Error(
        `The camera cannot be turned on: this call already has ${on} cameras on, the most it allows.`,
      );
    }
  }

  /** A remote video arrived (or replaced the sender's previous one). */
  protected addVideo(feed: VideoFeed): void {
    this.videos.set(videoKey(feed.sessionId, feed.source), feed);
    this.view.changed();
  }

  /** A remote video ended (unless a newer one of the sender's has replaced it). */
  protected removeVideo(feed: VideoFeed): void {
    const key = videoKey(feed.sessionId, feed.source);
    if (this.videos.get(key) !== feed) return;
    this.videos.delete(key);
    this.view.changed();
  }

  /** A host control on this call. */
  async host(
    action: HostAction,
    body?: { session_id: string } | { new_host_id: string },
  ): Promise<void> {
    await hostControl(this.options.token, this.options.channel, action, body);
  }
}
