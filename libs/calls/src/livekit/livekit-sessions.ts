import { Injectable } from '@nestjs/common';
import type { LiveKitConnection } from './livekit-connection';

/** How long after being told to reconnect a client's join counts as its rejoin. */
const REJOIN_WITHIN_MS = 60_000;

/** The LiveKit connections of this instance that serve a session, by session, channel and user. */
@Injectable()
export class LiveKitSessions {
  private readonly bySession = new Map<string, LiveKitConnection>();
  /** Sessions told to reconnect (leave with action RECONNECT), by when they were told. */
  private readonly toldToReconnect = new Map<string, number>();

  /** Registers a connection that now serves its session. */
  add(connection: LiveKitConnection): void {
    const id = connection.sessionId;
    if (id) this.bySession.set(id, connection);
  }

  /** Forgets a connection (only if it is still the one registered for its session). */
  remove(connection: LiveKitConnection): void {
    const id = connection.sessionId;
    if (id && this.bySession.get(id) === connection) this.bySession.delete(id);
  }

  get(sessionId: string): LiveKitConnection | undefined {
    return this.bySession.get(sessionId);
  }

  /** The connections in a channel's call. */
  inChannel(channelId: string): LiveKitConnection[] {
    return this.all().filter((c) => c.session?.channelId === channelId);
  }

  /** The connections in a call (by call id). */
  inCall(callId: string): LiveKitConnection[] {
    return this.all().filter((c) => c.session?.callId === callId);
  }

  /** The connections of a user (in one channel's call, when given). */
  ofUser(userId: string, channelId?: string): LiveKitConnection[] {
    return this.all().filter(
      (c) =>
        c.client.userId === userId &&
        (channelId === undefined || c.session?.channelId === channelId),
    );
  }

  /** The session's client was told to reconnect: its next join is a rejoin. */
  expectRejoin(sessionId: string): void {
    const now = Date.now();
    for (const [id, at] of this.toldToReconnect) {
      if (now - at > REJOIN_WITHIN_MS) this.toldToReconnect.delete(id);
    }
    this.toldToReconnect.set(sessionId, now);
  }

  /** Whether the session's client was told to reconnect lately (asked once). */
  takeRejoin(sessionId: string): boolean {
    const at = this.toldToReconnect.get(sessionId);
    this.toldToReconnect.delete(sessionId);
    return at !== undefined && Date.now() - at <= REJOIN_WITHIN_MS;
  }

  all(): LiveKitConnection[] {
    return [...this.bySession.values()];
  }

  get size(): number {
    return this.bySession.size;
  }
}
