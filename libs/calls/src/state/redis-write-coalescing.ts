import type { Redis } from 'ioredis';

/**
 * Holds the commands a client sends in this tick in its socket and sends them with one write at
 * the end of the tick (`cork` until `process.nextTick`): one system call instead of one per
 * command when several leave together (replies that arrive together free their callers in the
 * same tick; a broadcast to a batch of events publishes one entry per event).
 */
export function corkUntilNextTick(client: Redis): void {
  const stream = client.stream;
  if (!stream || stream.writableCorked > 0) return;
  stream.cork();
  process.nextTick(() => stream.uncork());
}

/** Makes every command of `client` go through {@link corkUntilNextTick}; returns the client. */
export function coalesceWritesPerTick(client: Redis): Redis {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    corkUntilNextTick(client);
    return send(command, stream);
  };
  return client;
}
