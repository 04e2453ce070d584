import { Inject, Injectable } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { ScreenShareUnavailableError } from '../errors/screen-share-unavailable.error';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallState } from '../state/call-state.types';
import { CallsBroadcaster } from '../gateway/calls-broadcaster';
import type { ServerEvent } from '../protocol/mattermost/calls-events';
import {
  InjectMediaPlane,
  type MediaIceCandidate,
  type MediaPlane,
} from '../media/media-plane.interface';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import type { ClientSessionDescription } from '../protocol/mattermost/sdp-payload';

/** The session an action comes from. */
export interface ActingSession {
  readonly sessionId: string;
  readonly callId: string;
  readonly channelId: string;
  readonly userId: string;
}

/** Mattermost's `EmojiData`. */
export interface EmojiData {
  readonly name: string;
  readonly unified?: string;
  readonly skin?: string;
  readonly literal?: string;
}

/**
 * What a participant does in a call: media negotiation, mute, hand, reactions, screen and video.
 * State changes go through the repository; events go to the participants, as Mattermost sends them.
 */
@Injectable()
export class ParticipantActionsService {
  private readonly wire: MattermostWire;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectMediaPlane() private readonly media: MediaPlane,
    private readonly broadcaster: CallsBroadcaster,
  ) {
    this.wire = new MattermostWire(options.idCodec);
  }

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
    this.toParticipants(
      call,
      muted ? 'user_muted' : 'user_unmuted',
      this.wire.userIdAndSession(s.userId, s.sessionId),
    );
  }

  async setHand(s: ActingSession, raised: boolean): Promise<void> {
    const call = await this.state.setRaisedHand(s.callId, s.sessionId, raised);
    this.toParticipants(call, raised ? 'user_raise_hand' : 'user_unraise_hand', {
      ...this.wire.userIdAndSession(s.userId, s.sessionId),
      raised_hand: call.sessions[s.sessionId]?.raisedHand ?? 0,
    });
  }

  async react(s: ActingSession, emoji: EmojiData): Promise<void> {
    const call = await this.state.getCall(s.callId);
    if (!call) return;
    this.toParticipants(call, 'user_reacted', {
      ...this.wire.userAndSession(s.userId, s.sessionId),
      emoji,
      timestamp: Date.now(),
    });
  }

  /** Starts a screen share: one sharer per call. */
  async screenOn(s: ActingSession, screenStreamId: string): Promise<void> {
    if (!this.options.allowScreenSharing)
      throw new ScreenShareUnavailableError('screen sharing is not allowed');
    const call = await this.state.update(s.callId, (c) => {
      if (c.screenSharingSessionId && c.screenSharingSessionId !== s.sessionId) {
        throw new ScreenShareUnavailableError('another participant is sharing their screen');
      }
      return c.screenSharingSessionId === s.sessionId
        ? c
        : { ...c, screenSharingSessionId: s.sessionId, screenStartAt: Date.now() };
    });
    this.media.setScreenStream(s.sessionId, screenStreamId);
    if (call)
      this.toParticipants(
        call,
        'user_screen_on',
        this.wire.userIdAndSession(s.userId, s.sessionId),
      );
  }

  /** Stops the session's screen share (only the sharer can). */
  async screenOff(s: ActingSession): Promise<void> {
    const current = await this.state.getCall(s.callId);
    if (!current || current.screenSharingSessionId !== s.sessionId) return;
    const call = await this.state.update(s.callId, (c) =>
      c.screenSharingSessionId === s.sessionId
        ? { ...c, screenSharingSessionId: '', screenStartAt: 0 }
        : c,
    );
    this.media.setScreenStream(s.sessionId, null);
    if (call)
      this.toParticipants(
        call,
        'user_screen_off',
        this.wire.userIdAndSession(s.userId, s.sessionId),
      );
  }

  async setVideo(s: ActingSession, on: boolean): Promise<void> {
    const call = await this.state.updateSession(s.callId, s.sessionId, { video: on });
    this.toParticipants(
      call,
      on ? 'user_video_on' : 'user_video_off',
      this.wire.userIdAndSession(s.userId, s.sessionId),
    );
  }

  private toParticipants(call: CallState, event: ServerEvent, data: Record<string, unknown>): void {
    const userIds = Object.values(call.sessions).map((x) => x.userId);
    this.broadcaster.toParticipants(call.channelId, userIds, event, data);
  }
}
