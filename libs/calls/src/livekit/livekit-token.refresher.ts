import { Injectable, Logger } from '@nestjs/common';
import { grantsToInput } from '../protocol/livekit/livekit-grants';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import { LiveKitTokens } from '../protocol/livekit/livekit-tokens';
import type { LiveKitConnection } from './livekit-connection';

/** How often a client is sent a fresh token (LiveKit's 5 minutes). */
export const TOKEN_REFRESH_INTERVAL_MS = 5 * 60 * 1000;

/**
 * Sends each LiveKit client `refresh_token` every 5 minutes: a token with the same identity, room,
 * name, grants and lifetime, signed with the same key, so a client that reconnects after its
 * first token expired (Mattermost's last an hour) still gets in.
 */
@Injectable()
export class LiveKitTokenRefresher {
  private readonly logger = new Logger(LiveKitTokenRefresher.name);

  constructor(private readonly tokens: LiveKitTokens) {}

  /** Starts the connection's refresh timer (the connection stops it when it ends). */
  start(connection: LiveKitConnection): void {
    const timer = setInterval(() => void this.refresh(connection), TOKEN_REFRESH_INTERVAL_MS);
    timer.unref();
    connection.timers.add(timer);
  }

  /** Mints and sends one fresh token now. */
  async refresh(connection: LiveKitConnection): Promise<void> {
    const t = connection.client.token;
    try {
      const jwt = await this.tokens.mint(
        {
          identity: t.identity,
          name: t.name || undefined,
          room: t.room,
          grants: grantsToInput(t.grants),
          metadata: t.metadata || undefined,
          attributes: t.attributes,
          ttlSeconds: t.ttlSeconds,
        },
        t.apiKey,
      );
      connection.send(LiveKitMessages.refreshToken(jwt));
    } catch (err) {
      this.logger.warn(
        `token refresh failed [sessionId=${connection.sessionId ?? '-'}]: ${(err as Error).message}`,
      );
    }
  }
}
