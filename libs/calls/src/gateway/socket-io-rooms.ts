/**
 * socket.io room names (a socket.io room is a delivery group, not a call: see the glossary in
 * README). With the Redis adapter they span every instance.
 */
export const SocketIoRooms = {
  /** Every socket of a user. */
  user: (userId: string) => `calls:user:${userId}`,
  /** The one socket currently serving a call session (re-bound on reconnect). */
  session: (sessionId: string) => `calls:session:${sessionId}`,
  /** Sockets that receive a channel's call events. */
  channel: (channelId: string) => `calls:channel:${channelId}`,
} as const;
