import type { SessionConnection, SessionPlace } from '../calls/local-sessions';
import { SocketIoRooms } from './socket-io-rooms';
import type { CallsSocket } from './socket-context';

/**
 * A socket as the core's {@link SessionConnection}: serving a session puts the socket in the
 * session's room (where the session's events go, on any instance) and the channel's.
 */
export class SocketSessionConnection implements SessionConnection {
  constructor(private readonly socket: CallsSocket) {}

  get sessionId(): string | undefined {
    return this.socket.data.sessionId;
  }

  attach(place: SessionPlace): void {
    const data = this.socket.data;
    data.sessionId = place.sessionId;
    data.callId = place.callId;
    data.channelId = place.channelId;
    void this.socket.join([
      SocketIoRooms.session(place.sessionId),
      SocketIoRooms.channel(place.channelId),
    ]);
  }

  detach(): void {
    const data = this.socket.data;
    if (data.sessionId) void this.socket.leave(SocketIoRooms.session(data.sessionId));
    data.sessionId = undefined;
    data.callId = undefined;
  }
}
