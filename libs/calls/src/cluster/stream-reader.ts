import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/** How long a read waits while the reader's connection is not ready (ms). */
const NOT_READY_WAIT_MS = 100;

/**
 * Paces the socket.io streams adapter's reader. The adapter reads its stream in a loop that,
 * when a read fails, reads again at once. A client that refuses commands at once (ended, which
 * ioredis does to a Sentinel client in a failover race; see `keepConnecting`) makes that loop spin
 * on rejected promises: the microtask queue never empties, so nothing else runs, not even the
 * `end` event that would connect the client again, and the instance's event loop is blocked for
 * good. A read while the connection is not ready waits a moment first (a timer: the event loop
 * turns).
 */
export function pacedStreamReader(reader: Redis): Redis {
  const xread = reader.xread.bind(reader) as (...args: unknown[]) => Promise<unknown>;
  reader.xread = (async (...args: unknown[]) => {
    if (reader.status !== 'ready') await sleep(NOT_READY_WAIT_MS);
    return xread(...args);
  }) as Redis['xread'];
  return reader;
}
