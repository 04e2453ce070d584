import { Injectable, Logger } from '@nestjs/common';
import { ParticipantActionsService } from '../calls/participant-actions.service';
import { TokenBucket } from '../calls/token-bucket';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { LiveKitIds } from '../protocol/livekit/livekit-ids';
import { reactionOf, stampClientPacket } from '../protocol/livekit/livekit-data';
import type { LiveKitConnection } from './livekit-connection';
import { LiveKitDelivery } from './livekit.delivery';

/** Data packets a participant may send per second, and in a burst. */
const DATA_RATE = 100;
const DATA_BURST = 200;
/** The channels whose packets are relayed (`_data_track` carries LiveKit's data tracks: not yet). */
const RELAYED_CHANNELS: ReadonlySet<string> = new Set(['_reliable', '_lossy']);

/**
 * A LiveKit participant's data packets: checked (the `canPublishData` grant, size, rate),
 * stamped with the sender (a client cannot speak for another), and delivered to the LiveKit
 * clients of the call (those it names, else all but the sender) on the channel it came on. A
 * reaction (topic `reaction`) is the core's reaction instead: every participant is told, each in
 * its own protocol (Mattermost clients `user_reacted`, LiveKit clients the same data packet).
 */
@Injectable()
export class LiveKitDataRouter {
  private readonly logger = new Logger(LiveKitDataRouter.name);
  private readonly limits = new WeakMap<LiveKitConnection, TokenBucket>();

  constructor(
    private readonly actions: ParticipantActionsService,
    private readonly delivery: LiveKitDelivery,
    private readonly metrics: CallsMetrics,
  ) {}

  /** A packet the client sent on its data channel `label`. */
  handle(c: LiveKitConnection, label: string, payload: Uint8Array): void {
    const result = this.route(c, label, payload);
    this.metrics.messages.inc({ type: 'livekit:data', result });
  }

  private route(c: LiveKitConnection, label: string, payload: Uint8Array): string {
    const place = c.session;
    const self = c.view?.self;
    if (!place || !self || !RELAYED_CHANNELS.has(label)) return 'ignored';
    if (!c.client.token.grants.canPublishData) return 'refused';
    if (!this.limiter(c).take()) return 'rate_limited';
    const stamped = stampClientPacket(payload, {
      participantSid: LiveKitIds.participant(place.sessionId),
      identity: self.identity,
    });
    if (typeof stamped === 'string') return stamped;
    const emoji = reactionOf(stamped.packet);
    if (emoji) {
      this.actions.react({ ...place, userId: c.client.userId }, emoji).catch((err: unknown) => {
        this.logger.debug(`reaction failed [sessionId=${place.sessionId}]: ${String(err)}`);
      });
      return 'ok';
    }
    this.delivery.sendData({
      channelId: place.channelId,
      from: place.sessionId,
      label,
      payload: stamped.bytes,
      destinations: stamped.destinations,
    });
    return 'ok';
  }

  private limiter(c: LiveKitConnection): TokenBucket {
    let bucket = this.limits.get(c);
    if (!bucket) {
      bucket = new TokenBucket(DATA_RATE, DATA_BURST);
      this.limits.set(c, bucket);
    }
    return bucket;
  }
}
