import { Injectable, Logger } from '@nestjs/common';
import { TrackSource, TrackUnpublishedResponse } from '@livekit/protocol';
import {
  type ActingSession,
  ParticipantActionsService,
} from '../calls/participant-actions.service';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import { msidsOf } from '../protocol/livekit/publisher-sdp';
import type { TrackView } from '../protocol/livekit/participant-view';
import type { LiveKitConnection } from './livekit-connection';

/** The camera of one connection: its track and the MediaStream its media comes in. */
interface Camera {
  readonly sid: string;
  streamId: string | null;
}

/**
 * A LiveKit participant's camera is the core's video (Mattermost clients see `user_video_on`,
 * and the core's limits apply: cameras enabled, at most so many per call). Announcing a camera
 * (`add_track`, source CAMERA) turns it on, or is refused; the publisher offer that carries it
 * names its MediaStream, whose video the media port then forwards; muting it, or its end, turns
 * it off; unmuting it turns it on again, or mutes it back when the call has no room for it. One
 * camera per participant: a second one is refused.
 */
@Injectable()
export class LiveKitCameras {
  private readonly logger = new Logger(LiveKitCameras.name);
  private readonly cameras = new WeakMap<LiveKitConnection, Camera>();

  constructor(private readonly actions: ParticipantActionsService) {}

  /**
   * A camera is announced (`add_track`): the session's camera turns on.
   * @returns null when it may be published, else why not
   */
  async announced(c: LiveKitConnection, track: TrackView): Promise<string | null> {
    const acting = actingOf(c);
    if (!acting) return 'not in a call';
    const current = this.cameras.get(c);
    if (current && current.sid !== track.sid) return 'one camera per participant';
    try {
      await this.actions.setVideo(acting, !track.muted);
    } catch (err) {
      return (err as Error).message;
    }
    if (!current) this.cameras.set(c, { sid: track.sid, streamId: null });
    return null;
  }

  /** Before a publisher offer is applied: the camera it carries gets its MediaStream named. */
  async beforeOffer(c: LiveKitConnection, sdp: string): Promise<void> {
    const camera = this.cameras.get(c);
    const acting = actingOf(c);
    const view = c.view;
    if (!camera || !acting || !view) return;
    const track =
      view.pending.get(camera.sid) ?? view.self.tracks.find((t) => t.sid === camera.sid);
    if (!track) return;
    const streamId = msidsOf(sdp).find((m) => m.trackId === track.cid)?.streamId;
    if (!streamId || streamId === camera.streamId) return;
    try {
      await this.actions.setVideo(acting, !track.muted, streamId);
      camera.streamId = streamId;
    } catch (err) {
      this.logger.log(`camera refused [sessionId=${acting.sessionId}]: ${String(err)}`);
      this.cameras.delete(c);
      c.send({
        case: 'trackUnpublished',
        value: new TrackUnpublishedResponse({ trackSid: camera.sid }),
      });
    }
  }

  /**
   * The client muted or unmuted its camera: off, or on again (when the call has no room for it
   * any more, the client is told to keep it muted).
   * @returns whether it is what the client asked
   */
  async muted(c: LiveKitConnection, track: TrackView, muted: boolean): Promise<boolean> {
    const acting = actingOf(c);
    if (track.source !== TrackSource.CAMERA || !acting) return true;
    const camera = this.cameras.get(c);
    try {
      await this.actions.setVideo(acting, !muted, camera?.streamId ?? undefined);
      return true;
    } catch (err) {
      this.logger.log(`camera unmute refused [sessionId=${acting.sessionId}]: ${String(err)}`);
      c.send(LiveKitMessages.mute(track.sid, true));
      return false;
    }
  }

  /** A published track of the connection ended: the end of its camera turns it off. */
  async unpublished(c: LiveKitConnection, trackSid: string): Promise<void> {
    const camera = this.cameras.get(c);
    const acting = actingOf(c);
    if (!camera || camera.sid !== trackSid || !acting) return;
    this.cameras.delete(c);
    await this.actions.setVideo(acting, false);
  }
}

/** The acting session of a joined connection. */
function actingOf(c: LiveKitConnection): ActingSession | null {
  const place = c.session;
  return place ? { ...place, userId: c.client.userId } : null;
}
