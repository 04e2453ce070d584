import { Injectable } from '@nestjs/common';
import { CallsMetrics } from '../metrics/calls-metrics.service';

/** Where a session sits: its call and channel. */
export interface SessionPlace {
  readonly sessionId: string;
  readonly callId: string;
  readonly channelId: string;
}

/**
 * A protocol adapter's connection (a socket.io socket, a LiveKit signal WebSocket) as the core
 * sees it: it serves at most one session at a time.
 */
export interface SessionConnection {
  /** The session it serves, if any. */
  readonly sessionId: string | undefined;
  /** It now serves this session: route the session's events to it. */
  attach(place: SessionPlace): void;
  /** It no longer serves its session (left, or taken over by a newer connection). */
  detach(): void;
}

/** A session served by this instance (its media is here), and the connection serving it. */
export interface LocalSession extends SessionPlace {
  readonly userId: string;
  /** The connection serving it; null while it waits for a reconnect. */
  connection: SessionConnection | null;
  /** Removal timer while the connection is gone. */
  graceTimer?: NodeJS.Timeout;
}

/** Sessions served by this instance, by session id. Owns the reconnect grace timers. */
@Injectable()
export class LocalSessions {
  private readonly sessions = new Map<string, LocalSession>();

  constructor(private readonly metrics: CallsMetrics) {}

  get(sessionId: string): LocalSession | undefined {
    return this.sessions.get(sessionId);
  }

  add(session: LocalSession): void {
    this.sessions.set(session.sessionId, session);
    this.metrics.localSessions.set(this.sessions.size);
  }

  /** Removes a session and stops its grace timer. */
  delete(sessionId: string): LocalSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session?.graceTimer) clearTimeout(session.graceTimer);
    if (this.sessions.delete(sessionId)) this.metrics.localSessions.set(this.sessions.size);
    return session;
  }

  all(): LocalSession[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }
}
