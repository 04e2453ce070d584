import { Injectable, Logger } from '@nestjs/common';
import {
  type AddTrackRequest,
  type MuteTrackRequest,
  RequestResponse_Reason,
  type SignalRequest,
  TrackPublishedResponse,
  TrackSource,
  type UpdateParticipantMetadata,
} from '@livekit/protocol';
import { CallMembershipService } from '../calls/call-membership.service';
import {
  type ActingSession,
  ParticipantActionsService,
} from '../calls/participant-actions.service';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { mayPublish } from '../protocol/livekit/livekit-grants';
import { LiveKitIds } from '../protocol/livekit/livekit-ids';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import { refusalOf } from '../protocol/livekit/livekit-refusals';
import { trackInfo } from '../protocol/livekit/participant-info.builder';
import {
  mergeAttributes,
  type ParticipantView,
  RAISED_HAND_ATTRIBUTE,
  type TrackView,
} from '../protocol/livekit/participant-view';
import type { LiveKitConnection } from './livekit-connection';
import { LiveKitScreenShare } from './livekit-screen-share';
import { LiveKitDelivery } from './livekit.delivery';

/** Most tracks one participant may announce. */
const MAX_TRACKS = 16;
/** Largest name + metadata + attributes of one participant (bytes of JSON). */
const MAX_METADATA_BYTES = 16 * 1024;

/**
 * The client requests of a joined LiveKit participant: keepalive, leave, metadata and attributes
 * (`raised_hand` is the core's hand), mute (the microphone is the core's mute), track
 * announcements, and the WebRTC requests, which go to the session's media when one is bound (a
 * publisher offer carrying a screen share starts the core's screen first) and are otherwise not
 * answered (no LiveKit media is provided). Unknown and not yet
 * supported requests (subscription, track settings, sync state, data tracks) are ignored, as
 * LiveKit clients expect of an older server.
 */
@Injectable()
export class LiveKitSignalHandler {
  private readonly logger = new Logger(LiveKitSignalHandler.name);

  constructor(
    private readonly membership: CallMembershipService,
    private readonly actions: ParticipantActionsService,
    private readonly delivery: LiveKitDelivery,
    private readonly screens: LiveKitScreenShare,
    private readonly metrics: CallsMetrics,
  ) {}

  /**
   * Handles one request, never throwing: a request that fails is answered with a
   * `request_response` (the module's errors with their code and message, anything else as
   * `internal error`), counted (`refused`, or `error` for the server's own failures) and, when it
   * is the server's own failure, logged as an error.
   */
  async handle(connection: LiveKitConnection, request: SignalRequest): Promise<void> {
    const type = `livekit:${request.message.case ?? 'unknown'}`;
    try {
      const result = await this.dispatch(connection, request);
      this.metrics.messages.inc({ type, result });
    } catch (err) {
      const refusal = refusalOf(request.message, err);
      connection.send(refusal.message);
      this.metrics.messages.inc({ type, result: refusal.internal ? 'error' : 'refused' });
      const what = `[sessionId=${connection.sessionId ?? '-'}, type=${type}]`;
      if (refusal.internal) {
        this.logger.error(`LiveKit request failed ${what}: ${(err as Error).stack ?? String(err)}`);
      } else {
        this.logger.debug(`LiveKit request refused ${what}: ${(err as Error).message}`);
      }
    }
  }

  private async dispatch(c: LiveKitConnection, request: SignalRequest): Promise<string> {
    const m = request.message;
    switch (m.case) {
      case 'ping':
        c.send(LiveKitMessages.pong(m.value));
        return 'ok';
      case 'pingReq':
        c.send(LiveKitMessages.pongResp(m.value.timestamp));
        return 'ok';
      case 'leave':
        await this.membership.leave(c);
        c.end(false);
        return 'ok';
      case 'updateMetadata':
        return this.updateMetadata(c, m.value);
      case 'mute':
        return this.mute(c, m.value);
      case 'addTrack':
        return this.addTrack(c, m.value);
      case 'offer': {
        if (!c.media) return 'unsupported';
        const offer = m.value.clone();
        offer.sdp = await this.screens.beforeOffer(c, offer.sdp);
        c.send({ case: 'answer', value: await c.media.handlePublisherOffer(offer) });
        return 'ok';
      }
      case 'answer':
        if (!c.media) return 'unsupported';
        await c.media.handleSubscriberAnswer(m.value);
        return 'ok';
      case 'trickle':
        if (!c.media) return 'unsupported';
        await c.media.addCandidate(m.value.target, m.value.candidateInit, m.value.final);
        return 'ok';
      default:
        return 'ignored';
    }
  }

  /**
   * `update_metadata`: needs `canUpdateOwnMetadata`. `raised_hand` raises or lowers the core's
   * hand (everyone is told through the core's `hand`); name, metadata and other attributes are
   * this participant's, shown to the LiveKit clients of the call, the sender included.
   */
  private async updateMetadata(
    c: LiveKitConnection,
    req: UpdateParticipantMetadata,
  ): Promise<string> {
    const view = c.view;
    const acting = actingOf(c);
    if (!view || !acting) return 'ignored';
    const refuse = (reason: RequestResponse_Reason, message: string): string => {
      c.send(
        LiveKitMessages.refused(req.requestId, reason, message, {
          case: 'updateMetadata',
          value: req,
        }),
      );
      return 'refused';
    };
    if (!c.client.token.grants.canUpdateOwnMetadata) {
      return refuse(
        RequestResponse_Reason.NOT_ALLOWED,
        'does not have permission to update own metadata',
      );
    }
    const { [RAISED_HAND_ATTRIBUTE]: hand, ...others } = req.attributes;
    const next: ParticipantView = {
      ...view.self,
      name: req.name || view.self.name,
      metadata: req.metadata || view.self.metadata,
      attributes: mergeAttributes(view.self.attributes, others),
    };
    // The hand becomes one of its attributes too: it counts.
    if (JSON.stringify(next).length + (hand?.length ?? 0) > MAX_METADATA_BYTES) {
      return refuse(RequestResponse_Reason.LIMIT_EXCEEDED, 'metadata too large');
    }
    const changed = JSON.stringify(next) !== JSON.stringify(view.self);
    if (changed) {
      c.send(...view.patchSelf(() => next));
      this.delivery.showParticipant(acting.channelId, view.self);
    }
    if (hand !== undefined) {
      // The core's `hand` event shows it to everyone, this client with the very value it set.
      const before = view.self;
      view.replaceSelf((v) => ({
        ...v,
        attributes: mergeAttributes(v.attributes, { [RAISED_HAND_ATTRIBUTE]: hand }),
      }));
      try {
        await this.actions.setHand(acting, hand !== '');
      } catch (err) {
        // Refused by handle(), like any failed request.
        view.replaceSelf(() => before);
        throw err;
      }
    }
    return 'ok';
  }

  /**
   * `mute` of one of its tracks: the microphone's is the core's mute (Mattermost clients see
   * `user_muted`); another published track's is shown to the LiveKit clients of the call.
   */
  private async mute(c: LiveKitConnection, req: MuteTrackRequest): Promise<string> {
    const view = c.view;
    const acting = actingOf(c);
    if (!view || !acting) return 'ignored';
    const pending = view.pending.get(req.sid);
    const published = view.self.tracks.find((t) => t.sid === req.sid);
    const track = pending ?? published;
    if (!track) {
      c.send(
        LiveKitMessages.refused(0, RequestResponse_Reason.NOT_FOUND, 'track not found', {
          case: 'mute',
          value: req,
        }),
      );
      return 'refused';
    }
    await c.media?.setTrackMuted(req.sid, req.muted);
    if (track.source === TrackSource.MICROPHONE) {
      // The core's `muted` event updates every view, this client's own included.
      view.setOwnTrackMuted(req.sid, req.muted);
      await this.actions.setMuted(acting, req.muted);
    } else if (published) {
      c.send(
        ...view.patchSelf((v) => ({
          ...v,
          tracks: v.tracks.map((t) => (t.sid === req.sid ? { ...t, muted: req.muted } : t)),
        })),
      );
      this.delivery.showParticipant(acting.channelId, view.self);
    }
    return 'ok';
  }

  /**
   * `add_track`: the track is announced (`track_published` with its `TR_` sid, derived from the
   * session and the client's track id, as every instance derives it from the media) and waits
   * for its media; the room is shown it once the media publishes it. A microphone added unmuted
   * unmutes the session (it joined muted).
   */
  private async addTrack(c: LiveKitConnection, req: AddTrackRequest): Promise<string> {
    const view = c.view;
    const acting = actingOf(c);
    if (!view || !acting) return 'ignored';
    if (!mayPublish(c.client.token.grants, req.source)) {
      c.send(
        LiveKitMessages.refused(
          0,
          RequestResponse_Reason.NOT_ALLOWED,
          'may not publish this source',
          {
            case: 'addTrack',
            value: req,
          },
        ),
      );
      return 'refused';
    }
    const existing = [...view.pending.values()].find((t) => t.cid === req.cid);
    if (!existing && view.pending.size + view.self.tracks.length >= MAX_TRACKS) {
      c.send(
        LiveKitMessages.refused(0, RequestResponse_Reason.LIMIT_EXCEEDED, 'too many tracks', {
          case: 'addTrack',
          value: req,
        }),
      );
      return 'refused';
    }
    const track: TrackView = existing ?? {
      sid: LiveKitIds.track(acting.sessionId, req.cid),
      cid: req.cid,
      type: req.type,
      source: req.source,
      name: req.name,
      muted: req.muted,
      width: req.width,
      height: req.height,
      stream: req.stream,
    };
    const info = c.media ? await c.media.addTrack(req, track) : trackInfo(track);
    view.pending.set(track.sid, track);
    c.send({
      case: 'trackPublished',
      value: new TrackPublishedResponse({ cid: req.cid, track: info }),
    });
    if (!existing && track.source === TrackSource.MICROPHONE && !track.muted) {
      await this.actions.setMuted(acting, false);
    }
    return 'ok';
  }
}

/** The acting session of a joined connection. */
function actingOf(c: LiveKitConnection): ActingSession | null {
  const place = c.session;
  return place ? { ...place, userId: c.client.userId } : null;
}
