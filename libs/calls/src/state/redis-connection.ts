import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { redactCredentials } from '../config/calls-env';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';

/** Where the module's Redis is: a URL, or a Sentinel group (the URL then gives credentials). */
export type RedisConnectionOptions = Pick<
  ResolvedCallsOptions,
  'redisUrl' | 'redisSentinels' | 'redisSentinelName'
>;

const logger = new Logger('RedisConnection');

/** A sentinel's address. */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` or `[ipv6]:port` (validated at boot by the env parser). */
export function parseSentinelAddress(address: string): SentinelAddress {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/** The credentials, database and TLS a `redis://` / `rediss://` URL gives. */
export function urlCredentials(url: string): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.slice(1));
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
  };
}

/**
 * A new ioredis client for the module's Redis: the URL's server, or, with sentinels, the current
 * primary of the Sentinel group, which it follows through failovers (it asks the sentinels again
 * when its connection drops, and the failover detector moves it as soon as a sentinel announces
 * a new primary; see {@link keepConnecting}). `duplicate()` of the client keeps the same target.
 */
export function createRedis(connection: RedisConnectionOptions, options: RedisOptions): Redis {
  if (connection.redisSentinels.length === 0) return new Redis(connection.redisUrl, options);
  return keepConnecting(
    new Redis({
      ...options,
      ...urlCredentials(connection.redisUrl),
      sentinels: connection.redisSentinels.map(parseSentinelAddress),
      name: connection.redisSentinelName,
      failoverDetector: true,
    }),
  );
}

/**
 * Makes a Sentinel client connect again when ioredis gives it up by itself. When a sentinel
 * announces a new primary while the client is reconnecting (asking the sentinels where the
 * primary is, as it does all through a failover), ioredis' failover detector closes the connector
 * under the attempt, which then fails with "Connection is closed." and leaves the client `end`ed:
 * no reconnection ever, every command refused at once. (A reader that loops on a refused command,
 * like the socket.io streams adapter's XREAD loop, then spins on rejected promises and blocks the
 * event loop for good.) The client is connected again at once, in the same tick, unless its owner
 * closed it (`quit`, `disconnect`); its `duplicate()`s are kept the same way.
 */
export function keepConnecting(client: Redis): Redis {
  let closed = false;
  const disconnect = client.disconnect.bind(client);
  client.disconnect = (reconnect = false): void => {
    if (!reconnect) closed = true;
    disconnect(reconnect);
  };
  const quit = client.quit.bind(client);
  client.quit = (...args: Parameters<Redis['quit']>) => {
    closed = true;
    return quit(...args);
  };
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override?: Partial<RedisOptions>): Redis =>
    keepConnecting(duplicate(override));
  client.on('end', () => {
    if (closed) return;
    logger.warn(
      `Redis client ended by itself, connecting again [name=${client.options.connectionName ?? '-'}]`,
    );
    client.connect().catch(() => undefined);
  });
  return client;
}

/** Where the module's Redis is, for log lines (no password). */
export function describeRedis(connection: RedisConnectionOptions): string {
  if (connection.redisSentinels.length === 0) {
    return `url=${redactCredentials(connection.redisUrl)}`;
  }
  return `sentinel=${connection.redisSentinelName}@${connection.redisSentinels.join(',')}`;
}
