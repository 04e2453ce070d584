import { Injectable } from '@nestjs/common';
import { InjectMediaPlane, type MediaPlane, type MediaTrack } from '../media/media-plane.interface';
import { hideTrack, pauseTrack, showTrack, trackSidOf } from '../protocol/livekit/media-tracks';
import type { LiveKitConnection } from './livekit-connection';
import { LiveKitSessions } from './livekit-sessions';

/** A track as the mirror remembers it, by producer id. */
interface KnownTrack {
  readonly sessionId: string;
  readonly sid: string;
}

/**
 * Shows the media tracks of a call, as this instance's media port sees them (local and piped in,
 * any protocol's), in the room views of this instance's LiveKit clients of the call: Mattermost
 * participants' microphones, screens and cameras become LiveKit tracks (source from their label),
 * and a LiveKit participant's track is known here before a subscriber offer carries it, even when
 * its participant's own announcement (relayed from the instance that serves it) comes later. A
 * client's own tracks are its own to announce.
 */
@Injectable()
export class LiveKitTrackMirror {
  private readonly known = new Map<string, KnownTrack>();

  constructor(
    @InjectMediaPlane() private readonly media: MediaPlane,
    private readonly connections: LiveKitSessions,
  ) {}

  /** A client just joined: it is shown every track the call has here. */
  seed(connection: LiveKitConnection, callId: string): void {
    this.ensure(connection, this.media.tracksOf(callId));
  }

  /** Shows tracks the client must know before an offer carries them (a no-op for known ones). */
  ensure(connection: LiveKitConnection, tracks: readonly MediaTrack[]): void {
    connection.whenJoined((view) => {
      for (const track of tracks) {
        this.remember(track);
        connection.send(...showTrack(view, track));
      }
    });
  }

  /** A track started in a call served here. */
  added(callId: string, track: MediaTrack): void {
    this.remember(track);
    for (const c of this.connections.inCall(callId)) this.ensure(c, [track]);
  }

  /** A track ended. */
  removed(callId: string, producerId: string): void {
    const track = this.known.get(producerId);
    if (!track) return;
    this.known.delete(producerId);
    for (const c of this.connections.inCall(callId)) {
      c.whenJoined((view) => c.send(...hideTrack(view, track.sessionId, track.sid)));
    }
  }

  /** A track was paused or resumed (shown as its `muted`, except a microphone's). */
  paused(callId: string, producerId: string, paused: boolean): void {
    const track = this.known.get(producerId);
    if (!track) return;
    for (const c of this.connections.inCall(callId)) {
      c.whenJoined((view) => c.send(...pauseTrack(view, track.sessionId, track.sid, paused)));
    }
  }

  private remember(track: MediaTrack): void {
    this.known.set(track.producerId, { sessionId: track.sessionId, sid: trackSidOf(track) });
  }
}
