import { Injectable, Logger } from '@nestjs/common';
import { TrackSource, TrackUnpublishedResponse } from '@livekit/protocol';
import { ParticipantActionsService } from '../calls/participant-actions.service';
import { msidsOf, restream } from '../protocol/livekit/publisher-sdp';
import type { TrackView } from '../protocol/livekit/participant-view';
import type { LiveKitConnection } from './livekit-connection';

/** A connection's screen share: the announced track and the MediaStream its media comes in. */
interface Share {
  readonly cid: string;
  readonly sid: string;
  readonly streamId: string;
}

/** What one connection shares, and the screen tracks the call refused it. */
interface ScreenState {
  share: Share | null;
  readonly refused: Set<string>;
}

/**
 * A LiveKit participant's screen share is the core's: when the publisher offer that carries an
 * announced `SCREEN_SHARE` track arrives, the session becomes the call's screen sharer
 * (Mattermost clients see `user_screen_on`; the media port labels the track `screen` before its
 * media starts, so Mattermost clients receive it as the screen), and the track's end turns it
 * off. The call has one sharer: a second one is told `track_unpublished` (its client stops
 * publishing) and its track is not forwarded. The screen's audio joins the screen's stream.
 */
@Injectable()
export class LiveKitScreenShare {
  private readonly logger = new Logger(LiveKitScreenShare.name);
  private readonly states = new WeakMap<LiveKitConnection, ScreenState>();

  constructor(private readonly actions: ParticipantActionsService) {}

  /**
   * Before a publisher offer is applied: starts the screen share it carries, if any.
   * @returns the offer's SDP as the media port is to see it (the screen audio in the screen's
   *   stream)
   */
  async beforeOffer(c: LiveKitConnection, sdp: string): Promise<string> {
    const view = c.view;
    const place = c.session;
    if (!view || !place) return sdp;
    const state = this.state(c);
    const tracks = [...view.pending.values(), ...view.self.tracks];
    const msids = msidsOf(sdp);
    const streamOf = (t: TrackView) => msids.find((m) => m.trackId === t.cid)?.streamId;
    for (const track of tracks.filter((t) => t.source === TrackSource.SCREEN_SHARE)) {
      const streamId = streamOf(track);
      if (!streamId || state.share?.cid === track.cid || state.refused.has(track.cid)) continue;
      try {
        await this.actions.screenOn({ ...place, userId: c.client.userId }, streamId);
        state.share = { cid: track.cid, sid: track.sid, streamId };
      } catch (err) {
        this.logger.log(`screen share refused [sessionId=${place.sessionId}]: ${String(err)}`);
        state.refused.add(track.cid);
        await c.media?.setTrackMuted(track.sid, true);
        c.send({
          case: 'trackUnpublished',
          value: new TrackUnpublishedResponse({ trackSid: track.sid }),
        });
      }
    }
    const share = state.share;
    if (!share) return sdp;
    let out = sdp;
    for (const track of tracks.filter((t) => t.source === TrackSource.SCREEN_SHARE_AUDIO)) {
      const streamId = streamOf(track);
      if (streamId && streamId !== share.streamId) out = restream(out, track.cid, share.streamId);
    }
    return out;
  }

  /** A published track of the connection ended: the end of its screen share stops the share. */
  async unpublished(c: LiveKitConnection, trackSid: string): Promise<void> {
    const state = this.states.get(c);
    const place = c.session;
    if (!state?.share || state.share.sid !== trackSid || !place) return;
    state.share = null;
    await this.actions.screenOff({ ...place, userId: c.client.userId });
  }

  private state(c: LiveKitConnection): ScreenState {
    let state = this.states.get(c);
    if (!state) {
      state = { share: null, refused: new Set() };
      this.states.set(c, state);
    }
    return state;
  }
}
