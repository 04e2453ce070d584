import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { CallDelivery } from '../calls/call-delivery.interface';
import type { CallEvent } from '../calls/call-events';
import { LocalSessions } from '../calls/local-sessions';
import { LIVEKIT_EVENT_TYPES } from '../protocol/livekit/call-event.mapping';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import type { CallState } from '../state/call-state.types';
import { InjectInstanceRelay, InstanceRelay } from './instance-relay.interface';
import type { LiveKitConnection } from './livekit-connection';
import {
  type DataDelivery,
  type DeliveryTarget,
  LIVEKIT_RELAY_TOPIC,
  type LiveKitRelayMessage,
  parseRelayMessage,
} from './livekit-relay.messages';
import { LiveKitSessions } from './livekit-sessions';
import { LiveKitSwitch } from './livekit-switch';

/**
 * The core's {@link CallDelivery} for LiveKit clients: each call event goes to the LiveKit
 * connections it is for on this instance (turned into LiveKit messages by each connection's room
 * view) and, through the {@link InstanceRelay}, to the other instances, which do the same for
 * theirs. Only the events LiveKit clients are told about travel, and only while the LiveKit
 * endpoint is on. Also carries what the call state does not hold: LiveKit participants' views
 * (name, attributes, tracks) and duplicate-identity evictions.
 */
@Injectable()
export class LiveKitDelivery implements CallDelivery, OnModuleInit {
  private readonly logger = new Logger(LiveKitDelivery.name);
  /** What a relayed `evict` does here (set by the endpoint). */
  private evictHandler: (sessionId: string) => void = () => undefined;

  constructor(
    private readonly connections: LiveKitSessions,
    private readonly local: LocalSessions,
    private readonly enabled: LiveKitSwitch,
    @InjectInstanceRelay() private readonly relay: InstanceRelay,
  ) {}

  onModuleInit(): void {
    if (!this.enabled.on) return;
    this.relay.onFromOthers(LIVEKIT_RELAY_TOPIC, (payload) => {
      const message = parseRelayMessage(payload);
      if (message) this.receive(message);
      else this.logger.debug('malformed LiveKit relay message dropped');
    });
  }

  /** Who handles a relayed duplicate-identity eviction. */
  onEvict(handler: (sessionId: string) => void): void {
    this.evictHandler = handler;
  }

  toSession(sessionId: string, _channelId: string, event: CallEvent): void {
    if (!this.wanted(event)) return;
    const connection = this.connections.get(sessionId);
    if (connection) connection.deliver(event);
    // A session served here is reached here (whatever its protocol); else it is elsewhere.
    else if (!this.local.get(sessionId)) {
      this.publish({ type: 'event', target: { kind: 'session', sessionId }, event });
    }
  }

  toUser(userId: string, event: CallEvent, channelId?: string): void {
    this.route({ kind: 'user', userId, ...(channelId !== undefined ? { channelId } : {}) }, event);
  }

  toParticipants(call: CallState, event: CallEvent): void {
    this.route({ kind: 'channel', channelId: call.channelId }, event);
  }

  toChannel(channelId: string, event: CallEvent): void {
    this.route({ kind: 'channel', channelId }, event);
  }

  /**
   * A batch for a channel: this instance's LiveKit clients get its participant changes as one
   * `update`; other instances get each event as usual (a relayed `event`, which every version
   * understands).
   */
  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    const wanted = events.filter((e) => this.wanted(e));
    if (wanted.length === 0) return;
    const target: DeliveryTarget = { kind: 'channel', channelId };
    for (const connection of this.targets(target)) connection.deliverAll(wanted);
    for (const event of wanted) this.publish({ type: 'event', target, event });
  }

  /** Shows a LiveKit participant's view to the LiveKit clients of its channel, everywhere. */
  showParticipant(channelId: string, view: ParticipantView, joined = false): void {
    if (!this.enabled.on) return;
    this.showHere(channelId, view, undefined, joined);
    this.publish({ type: 'participant', channelId, view, ...(joined ? { joined } : {}) });
  }

  /**
   * Delivers a LiveKit participant's data packet to the LiveKit clients of its channel (every
   * one but the sender, or the identities it names), here and on the other instances.
   */
  sendData(data: DataDelivery): void {
    if (!this.enabled.on) return;
    this.dataHere(data);
    const { payload, ...rest } = data;
    this.publish({ type: 'data', ...rest, payload: Buffer.from(payload).toString('base64') });
  }

  /** Asks every other instance to evict a session of this identity (`leave DUPLICATE_IDENTITY`). */
  evictElsewhere(sessionId: string): void {
    this.publish({ type: 'evict', sessionId });
  }

  private route(target: DeliveryTarget, event: CallEvent): void {
    if (!this.wanted(event)) return;
    for (const connection of this.targets(target)) connection.deliver(event);
    this.publish({ type: 'event', target, event });
  }

  private receive(message: LiveKitRelayMessage): void {
    switch (message.type) {
      case 'event':
        for (const connection of this.targets(message.target)) connection.deliver(message.event);
        return;
      case 'participant':
        this.showHere(message.channelId, message.view, message.to, message.joined === true);
        return;
      case 'evict':
        this.evictHandler(message.sessionId);
        return;
      case 'data':
        this.dataHere({ ...message, payload: Buffer.from(message.payload, 'base64') });
        return;
    }
  }

  private dataHere(data: DataDelivery): void {
    const named = new Set(data.destinations);
    for (const connection of this.connections.inChannel(data.channelId)) {
      const identity = connection.view?.self.identity;
      if (connection.sessionId === data.from || identity === undefined) continue;
      if (named.size > 0 && !named.has(identity)) continue;
      connection.media?.sendData(data.label, data.payload);
    }
  }

  /**
   * Shows a view to this instance's LiveKit clients of the channel (or to session `to` only). A
   * participant that just joined on another instance is sent this instance's LiveKit participants
   * of the channel in return (one that joined here had them in its join response).
   */
  private showHere(channelId: string, view: ParticipantView, to?: string, joined = false): void {
    const here = this.connections.inChannel(channelId);
    for (const connection of here) {
      if (connection.sessionId === view.sessionId) continue;
      if (to === undefined || connection.sessionId === to) connection.showParticipant(view);
    }
    if (!joined || this.connections.get(view.sessionId)) return;
    for (const connection of here) {
      const own = connection.view?.self;
      if (own) this.publish({ type: 'participant', channelId, view: own, to: view.sessionId });
    }
  }

  private targets(target: DeliveryTarget): LiveKitConnection[] {
    switch (target.kind) {
      case 'session': {
        const connection = this.connections.get(target.sessionId);
        return connection ? [connection] : [];
      }
      case 'user':
        return this.connections.ofUser(target.userId, target.channelId);
      case 'channel':
        return this.connections.inChannel(target.channelId);
    }
  }

  private wanted(event: CallEvent): boolean {
    return this.enabled.on && LIVEKIT_EVENT_TYPES.has(event.type);
  }

  private publish(message: LiveKitRelayMessage): void {
    if (this.relay.clustered) this.relay.emitToOthers(LIVEKIT_RELAY_TOPIC, message);
  }
}
