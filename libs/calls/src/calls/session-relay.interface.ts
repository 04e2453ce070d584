import { Inject } from '@nestjs/common';
import type { MediaIceCandidate, MediaTrackPreference } from '../media/media-plane.interface';
import type { EmojiData } from './call-events';
import type { SessionConnection, SessionPlace } from './local-sessions';
import type {
  ActingSession,
  ClientSessionDescription,
  SentVideo,
} from './participant-actions.service';

/** What a participant's client asks for, in the core's terms (one per client action). */
export type SessionAction =
  | { readonly type: 'description'; readonly description: ClientSessionDescription }
  | { readonly type: 'ice'; readonly candidate: MediaIceCandidate }
  | { readonly type: 'mute'; readonly muted: boolean }
  | { readonly type: 'hand'; readonly raised: boolean }
  | { readonly type: 'react'; readonly emoji: EmojiData }
  | { readonly type: 'screen-on'; readonly streamId: string }
  | { readonly type: 'screen-off' }
  | { readonly type: 'video'; readonly on: boolean; readonly streamId?: string }
  | {
      readonly type: 'track-settings';
      readonly video: SentVideo;
      readonly preference: MediaTrackPreference;
    };

/**
 * Sessions whose media another instance holds, served through a connection of this one: a client
 * whose signaling connection came back through another instance (a load balancer) keeps its
 * session where its media is, and its actions are relayed there (cluster/ implements it over the
 * instance bus; the serving instance's events reach the connection through the delivery, which
 * spans instances).
 */
export interface SessionRelay {
  /** Whether `sessionId` is served here through a connection for another instance. */
  isRemote(sessionId: string): boolean;
  /**
   * Takes over, through `connection` here, a session served by `instanceId` (its grace timer
   * there stops, its previous connection is let go).
   * @throws SessionNotFoundError when that instance does not serve it (or does not answer)
   */
  reconnect(
    instanceId: string,
    place: SessionPlace & { readonly userId: string },
    connection: SessionConnection,
  ): Promise<void>;
  /** Performs a client action of a remote session where it is served. */
  perform(session: ActingSession, action: SessionAction): Promise<void>;
  /** The remote session leaves its call (where it is served). */
  leave(sessionId: string): Promise<void>;
  /** The connection of a remote session closed: its grace period starts where it is served. */
  connectionLost(sessionId: string, connection: SessionConnection): void;
}

/** Injection token of {@link SessionRelay}. */
export const SessionRelay = Symbol('SessionRelay');

/** Injects the {@link SessionRelay}. */
export const InjectSessionRelay = (): ParameterDecorator => Inject(SessionRelay);
