import { Inject, Injectable } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { ScreenShareUnavailableError } from '../errors/screen-share-unavailable.error';
import { VideoUnavailableError } from '../errors/video-unavailable.error';
import {
  InjectMediaPlane,
  type MediaIceCandidate,
  type MediaPlane,
  type MediaTrackPreference,
} from '../media/media-plane.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { CallDelivery, InjectCallDelivery } from './call-delivery.interface';
import type { EmojiData } from './call-events';

/** The session an action comes from. */
export interface ActingSession {
  readonly sessionId: string;
  readonly callId: string;
  readonly channelId: string;
  readonly userId: string;
}

/** A session description from a client. */
export interface ClientSessionDescription {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** The options this service reads. */
export type ParticipantActionsOptions = Pick<
  ResolvedCallsOptions,
  'allowScreenSharing' | 'enableVideo' | 'maxCallCameras'
>;

/** A video track of a call, as a receiving client names it: its sender and what it is. */
export interface SentVideo {
  /** The session that sends it. */
  readonly sessionId: string;
  /** Its camera or its screen share. */
  readonly type: 'video' | 'screen';
}

/**
 * What a participant does in a call: media negotiation, mute, hand, reactions, screen and video.
 * State changes go through the repository (which owns the rules, e.g. one screen sharer per
 * call); events go to the participants.
 */
@Injectable()
export class ParticipantActionsService {
  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ParticipantActionsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectMediaPlane() private readonly media: MediaPlane,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
  ) {}

  description(s: ActingSession, description: ClientSessionDescription): Promise<void> {
    return this.media.handleDescription(s.sessionId, description);
  }

  iceCandidate(s: ActingSession, candidate: MediaIceCandidate): Promise<void> {
    return this.media.addIceCandidate(s.sessionId, candidate);
  }

  /** Mute/unmute: stored, forwarding of the session's voice paused/resumed, participants told. */
  async setMuted(s: ActingSession, muted: boolean): Promise<void> {
    const call = await this.state.setMuted(s.callId, s.sessionId, muted);
    await this.media.setAudioMuted(s.sessionId, muted);
    this.delivery.toParticipants(call, { type: 'muted', muted, ...subject(s) });
  }

  async setHand(s: ActingSession, raised: boolean): Promise<void> {
    const call = await this.state.setRaisedHand(s.callId, s.sessionId, raised);
    const raisedHand = call.sessions[s.sessionId]?.raisedHand ?? 0;
    this.delivery.toParticipants(call, { type: 'hand', raisedHand, ...subject(s) });
  }

  async react(s: ActingSession, emoji: EmojiData): Promise<void> {
    const call = await this.state.getCall(s.callId);
    if (!call) return;
    const event = { type: 'reacted', emoji, timestamp: Date.now(), ...subject(s) } as const;
    this.delivery.toParticipants(call, event);
  }

  /** Starts a screen share. @throws ScreenShareUnavailableError (disabled, or another sharer) */
  async screenOn(s: ActingSession, screenStreamId: string): Promise<void> {
    if (!this.options.allowScreenSharing)
      throw new ScreenShareUnavailableError('screen sharing is not allowed');
    const call = await this.state.setScreenSharer(s.callId, s.sessionId);
    await this.media.setScreenStream(s.sessionId, screenStreamId);
    this.delivery.toParticipants(call, { type: 'screen', on: true, ...subject(s) });
  }

  /** Stops the session's screen share (only the sharer's own). */
  async screenOff(s: ActingSession): Promise<void> {
    const { call, stopped } = await this.state.clearScreenSharer(s.callId, s.sessionId);
    if (!stopped) return;
    await this.media.setScreenStream(s.sessionId, null);
    this.delivery.toParticipants(call, { type: 'screen', on: false, ...subject(s) });
  }

  /**
   * Turns the session's camera on or off. On: allowed while cameras are enabled and the call
   * has fewer on than it may (counted in the shared state, so on every instance); the video of
   * `streamId` (the camera's MediaStream) is forwarded from then on (without one, the stream
   * named before stays). Off: its video is no longer forwarded. Participants are told of a
   * change.
   * @throws VideoUnavailableError (cameras disabled, or one too many)
   */
  async setVideo(s: ActingSession, on: boolean, streamId?: string): Promise<void> {
    if (on && !this.options.enableVideo) {
      throw new VideoUnavailableError('cameras are not allowed in calls');
    }
    const { call, changed } = await this.state.setVideo(s.callId, s.sessionId, on, {
      maxCameras: this.options.maxCallCameras,
    });
    if (!on) await this.media.setCameraStream(s.sessionId, null);
    else if (streamId !== undefined) await this.media.setCameraStream(s.sessionId, streamId);
    if (changed) this.delivery.toParticipants(call, { type: 'video', on, ...subject(s) });
  }

  /**
   * How the session wants another session's camera or screen share forwarded to it (its
   * current track; a new track of that sender starts with the session's default): not at
   * all, or up to a size or quality.
   */
  async setTrackPreference(
    s: ActingSession,
    video: SentVideo,
    preference: MediaTrackPreference,
  ): Promise<void> {
    const tracks = this.media
      .tracksOf(s.callId)
      .filter(
        (t) => t.kind === 'video' && t.sessionId === video.sessionId && t.type === video.type,
      );
    await Promise.all(
      tracks.map((t) => this.media.setTrackPreference(s.sessionId, t.producerId, preference)),
    );
  }
}

function subject(s: ActingSession): { userId: string; sessionId: string } {
  return { userId: s.userId, sessionId: s.sessionId };
}
