import { Injectable, Logger } from '@nestjs/common';
import { DisconnectReason, LeaveRequest_Action, TrickleRequest } from '@livekit/protocol';
import { LiveKitIds } from '../protocol/livekit/livekit-ids';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import type { TrackView } from '../protocol/livekit/participant-view';
import type { LiveKitConnection } from './livekit-connection';
import { LiveKitDataRouter } from './livekit-data.router';
import {
  InjectLiveKitMedia,
  type LiveKitMedia,
  type LiveKitMediaEvents,
} from './livekit-media-session.interface';
import { LiveKitCameras } from './livekit-camera';
import { LiveKitScreenShare } from './livekit-screen-share';
import { LiveKitSessions } from './livekit-sessions';
import { LiveKitTrackMirror } from './livekit-track.mirror';
import { LiveKitDelivery } from './livekit.delivery';

/**
 * Binds a joined LiveKit connection to its media, when a {@link LiveKitMedia} is provided:
 * subscriber offers (after the tracks they carry were shown) and server candidates go to the
 * client, published tracks enter the room (the LiveKit clients of the call are shown them; a
 * camera is the core's video, the end of a screen share the core's screen off), data packets go
 * to the {@link LiveKitDataRouter}, and media that fails ends the session (the client rejoins). Without a
 * {@link LiveKitMedia} it does nothing: the endpoint serves signaling only.
 */
@Injectable()
export class LiveKitMediaLink {
  private readonly logger = new Logger(LiveKitMediaLink.name);

  constructor(
    @InjectLiveKitMedia() private readonly media: LiveKitMedia | null,
    private readonly delivery: LiveKitDelivery,
    private readonly mirror: LiveKitTrackMirror,
    private readonly data: LiveKitDataRouter,
    private readonly screens: LiveKitScreenShare,
    private readonly cameras: LiveKitCameras,
    private readonly connections: LiveKitSessions,
  ) {}

  /** Whether LiveKit clients get media. */
  get available(): boolean {
    return this.media !== null;
  }

  /** Opens the connection's media (a failure ends the session with `leave MEDIA_FAILURE`). */
  async open(connection: LiveKitConnection, callId: string): Promise<void> {
    const place = connection.session;
    if (!this.media || !place) return;
    try {
      const session = await this.media.open(
        {
          callId,
          channelId: place.channelId,
          sessionId: place.sessionId,
          userId: connection.client.userId,
          participantSid: LiveKitIds.participant(place.sessionId),
          grants: connection.client.token.grants,
        },
        this.events(connection, place.channelId),
      );
      if (!connection.open) {
        await session.close();
        return;
      }
      connection.media = session;
      this.mirror.seed(connection, callId);
    } catch (err) {
      this.logger.warn(
        `LiveKit media did not open [sessionId=${place.sessionId}]: ${(err as Error).message}`,
      );
      this.fail(connection);
    }
  }

  private events(c: LiveKitConnection, channelId: string): LiveKitMediaEvents {
    const setTracks = (change: (tracks: readonly TrackView[]) => TrackView[]) =>
      c.whenJoined((view) => {
        c.send(...view.patchSelf((v) => ({ ...v, tracks: change(v.tracks) })));
        this.delivery.showParticipant(channelId, view.self);
      });
    return {
      // After what waits for the join (the updates that show the offer's tracks).
      subscriberOffer: (offer) => c.whenJoined(() => c.send({ case: 'offer', value: offer })),
      offering: (tracks) => this.mirror.ensure(c, tracks),
      candidate: (target, candidateInit) =>
        c.whenJoined(() =>
          c.send({ case: 'trickle', value: new TrickleRequest({ candidateInit, target }) }),
        ),
      trackPublished: (track) => {
        c.view?.pending.delete(track.sid);
        setTracks((tracks) => [...tracks.filter((t) => t.sid !== track.sid), track]);
      },
      trackUnpublished: (sid) => {
        c.view?.pending.delete(sid);
        setTracks((tracks) => tracks.filter((t) => t.sid !== sid));
        this.screens.unpublished(c, sid).catch((err: unknown) => {
          this.logger.debug(`screen off failed: ${String(err)}`);
        });
        this.cameras.unpublished(c, sid).catch((err: unknown) => {
          this.logger.debug(`camera off failed: ${String(err)}`);
        });
      },
      data: (label, payload) => this.data.handle(c, label, payload),
      closed: (reason) => {
        this.logger.log(`LiveKit media closed [sessionId=${c.sessionId ?? '-'}]: ${reason}`);
        this.fail(c);
      },
    };
  }

  /**
   * The session's media is gone (its ICE or DTLS failed, its media worker died): the session
   * leaves, and the client is told to join again (`leave` MEDIA_FAILURE with action RECONNECT: a
   * full reconnect under the same identity, new connections).
   */
  private fail(c: LiveKitConnection): void {
    if (c.sessionId) this.connections.expectRejoin(c.sessionId);
    c.send(LiveKitMessages.leave(DisconnectReason.MEDIA_FAILURE, LeaveRequest_Action.RECONNECT));
    c.end(true, true);
  }
}
