import { ReplyError } from 'ioredis';

/** Reply errors that mean "Redis cannot serve right now", not "the command was wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/**
 * True when an ioredis error means Redis is unreachable or not serving (closed connection,
 * timeout, offline, loading), as opposed to a reply to a bad command.
 */
export function isRedisUnavailableError(err: unknown): boolean {
  if (err instanceof ReplyError) return TRANSIENT_REPLY.test((err as Error).message);
  return err instanceof Error;
}
