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

/** How long, and how many, sessions that stopped being served here are remembered. */
const DEPARTED_MS = 10 * 60_000;
const DEPARTED_MAX = 10_000;

/**
 * Sessions served by this instance, by session id. Owns the reconnect grace timers, and remembers
 * for a while the sessions that stopped being served here (so that one a failover wrote back into
 * the call state can be recognised and removed again).
 */
@Injectable()
export class LocalSessions {
  private readonly sessions = new Map<string, LocalSession>();
  /** Sessions no longer served here → when they stopped (insertion order = age). */
  private readonly departed = new Map<string, number>();

  constructor(private readonly metrics: CallsMetrics) {}

  get(sessionId: string): LocalSession | undefined {
    return this.sessions.get(sessionId);
  }

  add(session: LocalSession): void {
    this.departed.delete(session.sessionId);
    this.sessions.set(session.sessionId, session);
    this.metrics.localSessions.set(this.sessions.size);
  }

  /** Removes a session and stops its grace timer. */
  delete(sessionId: string): LocalSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session?.graceTimer) clearTimeout(session.graceTimer);
    if (this.sessions.delete(sessionId)) {
      this.metrics.localSessions.set(this.sessions.size);
      this.rememberDeparted(sessionId);
    }
    return session;
  }

  /** Whether the session was served here and stopped being so in the last ten minutes. */
  departedRecently(sessionId: string): boolean {
    const at = this.departed.get(sessionId);
    return at !== undefined && Date.now() - at < DEPARTED_MS;
  }

  private rememberDeparted(sessionId: string): void {
    const now = Date.now();
    this.departed.delete(sessionId);
    this.departed.set(sessionId, now);
    for (const [id, at] of this.departed) {
      if (this.departed.size <= DEPARTED_MAX && now - at < DEPARTED_MS) break;
      this.departed.delete(id);
    }
  }

  all(): LocalSession[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }
}
