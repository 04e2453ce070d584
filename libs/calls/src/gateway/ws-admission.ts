import type { Event } from 'socket.io';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { RateLimitedError } from '../errors/rate-limited.error';
import { engineWebSocket } from './engine-websocket';
import type { CallsSocket } from './socket-context';
import { errorAck, type WsAck } from './ws-ack';

/** The same refusal for every message over the rate (no error object per message). */
const RATE_LIMITED: WsAck = errorAck(new RateLimitedError());

/** Longest a flooding connection is left unread at a time (well under socket.io's ping timeout). */
const MAX_HOLD_MS = 2000;

/**
 * Backpressure for one socket: while it floods, its connection is not read (WebSocket transport;
 * polling has no equivalent), so TCP holds the client back instead of its messages, refused or
 * not, filling the event loop ahead of everyone else's. Each refused message adds one token
 * interval to the hold, up to {@link MAX_HOLD_MS}.
 */
class ReadHold {
  private until = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: CallsSocket,
    private readonly tokenMs: number,
  ) {}

  extend(): void {
    const ws = engineWebSocket(this.socket.conn);
    if (!ws) return;
    const now = Date.now();
    this.until = Math.min(Math.max(this.until, now) + this.tokenMs, now + MAX_HOLD_MS);
    if (this.timer) return;
    ws.pause();
    const release = (): void => {
      const left = this.until - Date.now();
      if (left > 0) {
        this.timer = setTimeout(release, left).unref();
        return;
      }
      this.timer = null;
      ws.resume();
    };
    this.timer = setTimeout(release, this.until - now).unref();
  }
}

/**
 * socket.io middleware admitting each message of a socket before Nest dispatches it: over the
 * socket's token bucket (Mattermost: 10 messages/s, burst 100) → `rate_limited`, and the
 * connection is held back (see {@link ReadHold}); an unknown action →
 * `invalid_message`. A refused message gets its error ack, if it asked for one, and goes no
 * further. This runs outside Nest's guards, interceptors and filters on purpose: a flood must cost
 * the server next to nothing, or it slows everyone else's joins.
 */
export function wsAdmission(
  socket: CallsSocket,
  knownActions: ReadonlySet<string>,
  ratePerSecond: number,
): (event: Event, next: (err?: Error) => void) => void {
  const hold = new ReadHold(socket, Math.ceil(1000 / ratePerSecond));
  return ([name, ...args], next) => {
    let refusal: WsAck | null = null;
    if (socket.data.limiter && !socket.data.limiter.take()) {
      refusal = RATE_LIMITED;
      hold.extend();
    } else if (!knownActions.has(name)) {
      refusal = errorAck(
        new InvalidMessageError('event', `unknown action ${String(name).slice(0, 80)}`),
      );
    }
    if (!refusal) return next();
    const ack: unknown = args[args.length - 1];
    if (typeof ack === 'function') (ack as (r: WsAck) => void)(refusal);
  };
}
