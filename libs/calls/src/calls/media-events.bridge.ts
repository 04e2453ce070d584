import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  InjectMediaPlane,
  type MediaPlane,
  type MediaSessionRef,
  type MediaSignal,
} from '../media/media-plane.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { CallDelivery, InjectCallDelivery } from './call-delivery.interface';
import { CallMembershipService } from './call-membership.service';
import { LocalSessions } from './local-sessions';

/**
 * Turns media-plane events into call events: signals to the one session they are for, voice
 * activity to the participants, and sessions the media plane closed into leaves.
 */
@Injectable()
export class MediaEventsBridge implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MediaEventsBridge.name);
  private unsubscribe: (() => void) | null = null;

  constructor(
    @InjectMediaPlane() private readonly media: MediaPlane,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
    private readonly sessions: LocalSessions,
    private readonly membership: CallMembershipService,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.media.subscribe({
      signal: (ref, signal) => this.signal(ref, signal),
      voice: (ref, speaking) => void this.voice(ref, speaking),
      sessionClosed: (ref, reason) =>
        this.membership.removeSessionInBackground(ref.sessionId, reason),
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  /** A signal goes to exactly one session, and only to one served here. */
  private signal(ref: MediaSessionRef, signal: MediaSignal): void {
    const channelId = this.sessions.get(ref.sessionId)?.channelId;
    if (!channelId) {
      this.logger.debug(
        `signal for a session not served here dropped [sessionId=${ref.sessionId}]`,
      );
      return;
    }
    const { userId, sessionId } = ref;
    this.delivery.toSession(sessionId, channelId, {
      type: 'signal',
      channelId,
      signal,
      userId,
      sessionId,
    });
  }

  private async voice(ref: MediaSessionRef, speaking: boolean): Promise<void> {
    const call = await this.state.getCall(ref.callId).catch(() => null);
    if (!call) return;
    const { userId, sessionId } = ref;
    this.delivery.toParticipants(call, { type: 'voice', speaking, userId, sessionId });
  }
}
