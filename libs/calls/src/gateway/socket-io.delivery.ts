import { Injectable } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import type { CallDelivery } from '../calls/call-delivery.interface';
import type { CallEvent } from '../calls/call-events';
import type { CallState } from '../state/call-state.types';
import type { ServerEvent } from '../protocol/mattermost/calls-events';
import {
  type MattermostBroadcast,
  mattermostEnvelope,
} from '../protocol/mattermost/mattermost-envelope';
import { mattermostEvent } from '../protocol/mattermost/mattermost-events';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { SocketIoRooms } from './socket-io-rooms';

type Data = Record<string, unknown>;

/**
 * The core's {@link CallDelivery} over socket.io, in Mattermost's terms: each call event becomes a
 * Mattermost calls event with Mattermost's envelope, sent to a socket.io room (a channel's
 * followers, each participant user, one user, or the one socket serving a session; with the Redis
 * adapter the rooms span every instance). Channel-scoped events carry `broadcast.channel_id` and
 * `data.channelID` in Mattermost id form (mobile reads the channel only from there).
 */
@Injectable()
export class SocketIoDelivery implements CallDelivery {
  private server: Namespace | null = null;
  private seq = 0;

  constructor(private readonly wire: MattermostWire) {}

  /** Called by the gateway once its namespace exists. */
  attach(server: Namespace): void {
    this.server = server;
  }

  toChannel(channelId: string, event: CallEvent): void {
    const { name, data } = mattermostEvent(this.wire, event);
    const wireChannel = this.wire.id(channelId);
    this.emit(
      [SocketIoRooms.channel(channelId)],
      name,
      { ...data, channelID: wireChannel },
      { channel_id: wireChannel },
    );
  }

  /**
   * One Mattermost event per call event, as stock clients expect (one `user_joined` per session):
   * each serialised once for the whole room, the batch written back to back, so a socket takes it
   * in a couple of writes (see `ws-write-coalescing.ts`).
   */
  toChannelBatch(channelId: string, events: readonly CallEvent[]): void {
    for (const event of events) this.toChannel(channelId, event);
  }

  toParticipants(call: CallState, event: CallEvent): void {
    const userIds = new Set(Object.values(call.sessions).map((s) => s.userId));
    if (userIds.size === 0) return;
    const { name, data } = mattermostEvent(this.wire, event);
    const wireChannel = this.wire.id(call.channelId);
    this.emit(
      [...userIds].map((u) => SocketIoRooms.user(u)),
      name,
      { ...data, channelID: wireChannel },
      { channel_id: wireChannel },
    );
  }

  toUser(userId: string, event: CallEvent, channelId?: string): void {
    const { name, data } = mattermostEvent(this.wire, event);
    this.emit([SocketIoRooms.user(userId)], name, data, {
      user_id: this.wire.id(userId),
      channel_id: channelId === undefined ? '' : this.wire.id(channelId),
    });
  }

  /**
   * A media signal for a session whose socket is on this instance (its media is here: the core
   * only signals sessions served here) goes to that socket directly. Through the Redis adapter it
   * would be published to the stream, read back and decoded by every instance, and the local
   * socket would get it only after Redis acknowledged the publish. Signals are a stream of their
   * own for the client's peer connection, so they keep their order among themselves; other events
   * to a session take the adapter's path, in order with the channel's and the user's events.
   */
  toSession(sessionId: string, channelId: string, event: CallEvent): void {
    const { name, data } = mattermostEvent(this.wire, event);
    const room = SocketIoRooms.session(sessionId);
    const local = event.type === 'signal' && this.hasLocalSocket(room);
    this.emit(
      [room],
      name,
      data,
      { connection_id: sessionId, channel_id: this.wire.id(channelId) },
      local,
    );
  }

  /** To one socket, whether or not it is in a call (replies such as `call_state`, `hello`). */
  toSocket(
    socket: { emit(event: string, payload: unknown): unknown },
    event: ServerEvent | 'hello',
    data: Data,
    broadcast: Partial<MattermostBroadcast> = {},
  ): void {
    const envelope = mattermostEnvelope(event, data, broadcast, ++this.seq);
    socket.emit(envelope.event, envelope);
  }

  private emit(
    rooms: string[],
    event: ServerEvent,
    data: Data,
    broadcast: Partial<MattermostBroadcast>,
    localOnly = false,
  ): void {
    if (!this.server) return;
    const envelope = mattermostEnvelope(event, data, broadcast, ++this.seq);
    (localOnly ? this.server.local : this.server).to(rooms).emit(envelope.event, envelope);
  }

  private hasLocalSocket(room: string): boolean {
    return (this.server?.adapter.rooms.get(room)?.size ?? 0) > 0;
  }
}
