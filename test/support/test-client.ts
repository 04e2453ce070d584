import type { Socket } from 'socket.io-client';

/** An event as the server sends it (Mattermost envelope). */
export interface Envelope {
  event: string;
  data: Record<string, unknown>;
  broadcast: Record<string, unknown>;
}

/** A socket.io client that records every event it receives. */
export class TestClient {
  readonly events: Envelope[] = [];
  connectionId = '';
  private waiters: { match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }[] = [];

  constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: Envelope) => {
      const event = { ...payload, event: name };
      if (name === 'hello') this.connectionId = String(payload.data.connection_id);
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve(event);
        return false;
      });
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect_error', reject);
      this.socket.once('hello', () => resolve());
    });
  }

  /** Sends an action and returns its acknowledgement (rejects after `timeoutMs` without one). */
  send<T = Record<string, unknown>>(short: string, data?: unknown, timeoutMs = 5000): Promise<T> {
    const name = `custom_com.mattermost.calls_${short}`;
    const socket = this.socket.timeout(timeoutMs);
    return (
      data === undefined ? socket.emitWithAck(name) : socket.emitWithAck(name, data)
    ) as Promise<T>;
  }

  /** Waits for an event (already received ones count) matching `predicate`. */
  waitFor(
    short: string,
    predicate: (e: Envelope) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Envelope> {
    const name = short === 'hello' ? short : `custom_com.mattermost.calls_${short}`;
    const match = (e: Envelope) => e.event === name && predicate(e);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${name}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Events of one name received so far. */
  received(short: string): Envelope[] {
    return this.events.filter((e) => e.event === `custom_com.mattermost.calls_${short}`);
  }

  close(): void {
    this.socket.disconnect();
  }
}
