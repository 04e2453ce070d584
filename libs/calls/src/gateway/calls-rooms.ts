/** socket.io room names. With the Redis adapter they span every instance. */
export const CallsRooms = {
  /** Every socket of a user. */
  user: (userId: string) => `calls:user:${userId}`,
  /** The one socket currently serving a call session (re-bound on reconnect). */
  session: (sessionId: string) => `calls:session:${sessionId}`,
  /** Sockets that receive a channel's call events. */
  channel: (channelId: string) => `calls:channel:${channelId}`,
} as const;
