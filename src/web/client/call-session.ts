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

  /** A host control on this call. */
  async host(
    action: HostAction,
    body?: { session_id: string } | { new_host_id: string },
  ): Promise<void> {
    await hostControl(this.options.token, this.options.channel, action, body);
  }
}
