import type { Socket } from 'socket.io';
import { NotInCallError } from '../errors/not-in-call.error';
import { UnauthenticatedError } from '../errors/unauthenticated.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import type { SessionConnection } from '../calls/local-sessions';
import type { TokenBucket } from '../calls/token-bucket';

/** What the module keeps on each accepted socket (`socket.data`). */
export interface CallsSocketData {
  principal?: CallsPrincipal;
  /** Mattermost-style connection id, sent in `hello`; becomes the session id at join. */
  connectionId?: string;
  /** The call session this socket serves (after join or reconnect). */
  sessionId?: string;
  callId?: string;
  channelId?: string;
  limiter?: TokenBucket;
  /** The socket as the core sees it (set on connection). */
  connection?: SessionConnection;
}

/** A socket of the calls namespace. */
export type CallsSocket = Socket<
  Record<string, (...args: unknown[]) => void>,
  Record<string, (...args: unknown[]) => void>,
  Record<string, never>,
  CallsSocketData
>;

/** The authenticated user of a socket. @throws UnauthenticatedError */
export function principalOf(socket: CallsSocket): CallsPrincipal {
  const principal = socket.data.principal;
  if (!principal) throw new UnauthenticatedError();
  return principal;
}

/** The session a socket serves. @throws NotInCallError */
export function sessionOf(socket: CallsSocket): {
  sessionId: string;
  callId: string;
  channelId: string;
  userId: string;
} {
  const { sessionId, callId, channelId } = socket.data;
  if (!sessionId || !callId || !channelId) throw new NotInCallError();
  return { sessionId, callId, channelId, userId: principalOf(socket).userId };
}

/** The socket as the core's session connection. @throws UnauthenticatedError before it connected */
export function connectionOf(socket: CallsSocket): SessionConnection {
  const connection = socket.data.connection;
  if (!connection) throw new UnauthenticatedError();
  return connection;
}
