import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { CallMembershipService } from './call-membership.service';
import { CallsBroadcaster } from '../gateway/calls-broadcaster';
import {
  InjectMediaPlane,
  type MediaPlane,
  type MediaSessionRef,
  type MediaSignal,
} from '../media/media-plane.interface';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { SessionBindings } from './session-bindings';

/**
 * Turns media-plane events into Mattermost events: signals to the one session they are for,
 * voice activity to the participants, and sessions the SFU closed into leaves.
 */
@Injectable()
export class MediaEventsBridge implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MediaEventsBridge.name);
  private readonly wire: MattermostWire;
  private unsubscribe: (() => void) | null = null;

  constructor(
    @Inject(CALLS_OPTIONS) options: ResolvedCallsOptions,
    @InjectMediaPlane() private readonly media: MediaPlane,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly broadcaster: CallsBroadcaster,
    private readonly bindings: SessionBindings,
    private readonly membership: CallMembershipService,
  ) {
    this.wire = new MattermostWire(options.idCodec);
  }

  onModuleInit(): void {
    this.unsubscribe = this.media.subscribe({
      signal: (ref, signal) => this.signal(ref, signal),
      voice: (ref, speaking) => void this.voice(ref, speaking),
      sessionClosed: (ref, reason) =>
        this.membership.removeSessionInBackground(ref.sessionId, reason),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * `signal` to exactly one session: Mattermost's `connID` + `data` (a JSON string, which stock
   * clients act on for answer/offer/candidate) and the seed's fields with the same signal as an object.
   */
  private signal(ref: MediaSessionRef, signal: MediaSignal): void {
    const channelId = this.bindings.get(ref.sessionId)?.channelId;
    if (!channelId) {
      this.logger.debug(
        `signal for a session not served here dropped [sessionId=${ref.sessionId}]`,
      );
      return;
    }
    this.broadcaster.toSession(
      ref.sessionId,
      'signal',
      {
        connID: ref.sessionId,
        data: JSON.stringify(signal),
        channel_id: this.wire.id(channelId),
        channel_id_raw: channelId,
        user_id: this.wire.id(ref.userId),
        user_id_raw: ref.userId,
        session_id: ref.sessionId,
        session_id_raw: ref.sessionId,
        signal,
      },
      channelId,
    );
  }

  private async voice(ref: MediaSessionRef, speaking: boolean): Promise<void> {
    const call = await this.state.getCall(ref.callId).catch(() => null);
    if (!call) return;
    this.broadcaster.toParticipants(
      call.channelId,
      Object.values(call.sessions).map((s) => s.userId),
      speaking ? 'user_voice_on' : 'user_voice_off',
      this.wire.userIdAndSession(ref.userId, ref.sessionId),
    );
  }
}
