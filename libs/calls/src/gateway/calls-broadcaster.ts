import { Injectable } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import { CALLS_EVENT_PREFIX, type ServerEvent } from '../protocol/mattermost/calls-events';
import { CallsRooms } from './calls-rooms';
import { InjectCallsIdCodec, type CallsIdCodec } from '../identity/id-codec.interface';

/** Mattermost's `broadcast` block of a WebSocket event. */
export interface MattermostBroadcast {
  readonly omit_users: null;
  readonly user_id: string;
  readonly channel_id: string;
  readonly team_id: string;
  readonly connection_id: string;
  readonly omit_connection_id: string;
}

/** A server → client event as Mattermost sends it, carried as the socket.io event's payload. */
export interface MattermostEnvelope<T extends object = Record<string, unknown>> {
  readonly event: string;
  readonly data: T;
  readonly broadcast: MattermostBroadcast;
  readonly seq: number;
}

type Data = Record<string, unknown>;

/** Builds a Mattermost event envelope (`event`, `data`, `broadcast`, `seq`). */
export function mattermostEnvelope(
  event: ServerEvent | 'hello',
  data: Data,
  broadcast: Partial<MattermostBroadcast>,
  seq = 0,
): MattermostEnvelope {
  return {
    event: event === 'hello' ? event : `${CALLS_EVENT_PREFIX}${event}`,
    data,
    broadcast: {
      omit_users: null,
      user_id: '',
      channel_id: '',
      team_id: '',
      connection_id: '',
      omit_connection_id: '',
      ...broadcast,
    },
    seq,
  };
}

/**
 * Sends Mattermost calls events with Mattermost's envelope and delivery scopes: a channel, the
 * participants of a call (each participant user), one user, or one session. Channel-scoped events
 * carry `broadcast.channel_id` and `data.channelID` in Mattermost id form (mobile reads the channel
 * only from there).
 */
@Injectable()
export class CallsBroadcaster {
  private server: Namespace | null = null;
  private seq = 0;

  constructor(@InjectCallsIdCodec() private readonly ids: CallsIdCodec) {}

  /** Called by the gateway once its namespace exists. */
  attach(server: Namespace): void {
    this.server = server;
  }

  /** To every socket that follows the channel. */
  toChannel(channelId: string, event: ServerEvent, data: Data): void {
    const wireChannel = this.ids.toWire(channelId);
    this.emit(
      [CallsRooms.channel(channelId)],
      event,
      { ...data, channelID: wireChannel },
      { channel_id: wireChannel },
    );
  }

  /** To every user with a session in the call (all their sockets); the channel is still named. */
  toParticipants(
    channelId: string,
    userIds: Iterable<string>,
    event: ServerEvent,
    data: Data,
  ): void {
    const rooms = [...new Set(userIds)].map((u) => CallsRooms.user(u));
    if (rooms.length === 0) return;
    const wireChannel = this.ids.toWire(channelId);
    this.emit(rooms, event, { ...data, channelID: wireChannel }, { channel_id: wireChannel });
  }

  /** To every socket of one user. */
  toUser(userId: string, event: ServerEvent, data: Data, channelId?: string): void {
    const wireChannel = channelId === undefined ? '' : this.ids.toWire(channelId);
    this.emit([CallsRooms.user(userId)], event, data, {
      user_id: this.ids.toWire(userId),
      channel_id: wireChannel,
    });
  }

  /** To the one socket serving a session (wherever it is connected). */
  toSession(sessionId: string, event: ServerEvent, data: Data, channelId?: string): void {
    const wireChannel = channelId === undefined ? '' : this.ids.toWire(channelId);
    this.emit([CallsRooms.session(sessionId)], event, data, {
      connection_id: sessionId,
      channel_id: wireChannel,
    });
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
  ): void {
    if (!this.server) return;
    const envelope = mattermostEnvelope(event, data, broadcast, ++this.seq);
    this.server.to(rooms).emit(envelope.event, envelope);
  }
}
