import { Injectable } from '@nestjs/common';
import { CallAccessPolicy } from '../calls/call-access.policy';
import { CallsIdCodec, InjectCallsIdCodec } from '../identity/id-codec.interface';
import { parseIdentity } from '../protocol/livekit/livekit-identity';
import { newSessionId } from '../protocol/livekit/livekit-ids';
import { LiveKitTokenError, LiveKitTokens } from '../protocol/livekit/livekit-tokens';
import type { LiveKitClient } from './livekit-connection';

/** LiveKit's text for a room that cannot be joined because it does not exist. */
export const ROOM_NOT_FOUND = 'requested room does not exist';

/** The outcome of checking a client's token: who it is, or the HTTP answer that refuses it. */
export type Admission =
  | { readonly ok: true; readonly client: LiveKitClient }
  | { readonly ok: false; readonly status: 401 | 403 | 404; readonly body: string };

/**
 * Whether a LiveKit client may join, before anything is created: its token verifies (else 401),
 * its identity is `userID___sessionID` or a user id (else 401), its room is a channel id (else
 * 404, LiveKit's "requested room does not exist") and the host app lets the user join that
 * channel's call (else 403).
 */
@Injectable()
export class LiveKitAdmission {
  constructor(
    private readonly tokens: LiveKitTokens,
    private readonly access: CallAccessPolicy,
    @InjectCallsIdCodec() private readonly codec: CallsIdCodec,
  ) {}

  async admit(token: string | null): Promise<Admission> {
    if (!token) return { ok: false, status: 401, body: 'no access token' };
    let verified;
    try {
      verified = await this.tokens.verify(token);
    } catch (err) {
      const reason = err instanceof LiveKitTokenError ? err.message : 'invalid token';
      return { ok: false, status: 401, body: `invalid token: ${reason}` };
    }
    const identity = parseIdentity(verified.identity);
    const userId = identity ? this.codec.fromWire(identity.userId) : null;
    if (!identity || !userId) return { ok: false, status: 401, body: 'invalid identity' };
    const channelId = this.codec.fromWire(verified.room);
    if (!channelId) return { ok: false, status: 404, body: ROOM_NOT_FOUND };
    if (!(await this.access.canJoin(userId, channelId))) {
      return { ok: false, status: 403, body: 'not allowed to join this room' };
    }
    return {
      ok: true,
      client: {
        token: verified,
        userId,
        channelId,
        sessionId: identity.sessionId ?? newSessionId(),
      },
    };
  }
}
