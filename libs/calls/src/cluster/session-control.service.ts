import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CallMembershipService } from '../calls/call-membership.service';
import { LocalSessions } from '../calls/local-sessions';
import type { SessionControl } from '../calls/session-control.interface';
import { InjectMediaPlane, type MediaPlane } from '../media/media-plane.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { InstanceBus } from './instance-bus';
import { SessionMessage } from './instance-bus.messages';

/**
 * Acts on a session wherever it is served: here directly, on another instance through the
 * instance bus (that instance closes the socket's session and its media). When the serving
 * instance does not answer (dead), the session is removed from the shared state here.
 */
@Injectable()
export class SessionControlService implements SessionControl, OnModuleInit {
  private readonly logger = new Logger(SessionControlService.name);

  constructor(
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectMediaPlane() private readonly media: MediaPlane,
    private readonly sessions: LocalSessions,
    private readonly membership: CallMembershipService,
    private readonly bus: InstanceBus,
  ) {}

  onModuleInit(): void {
    this.bus.handle(SessionMessage.remove, async ({ sessionId, reason }) => {
      await this.membership.removeSession(sessionId, reason);
    });
    this.bus.handle(SessionMessage.mute, async ({ sessionId, muted }) => {
      if (this.media.hasSession(sessionId)) await this.media.setAudioMuted(sessionId, muted);
    });
    this.bus.handle(SessionMessage.screenOff, async ({ sessionId }) => {
      if (this.media.hasSession(sessionId)) await this.media.setScreenStream(sessionId, null);
    });
  }

  /** Removes a session (closing its socket's session and media where it is served). */
  async remove(callId: string, sessionId: string, reason: string): Promise<void> {
    if (this.sessions.get(sessionId)) return this.membership.removeSession(sessionId, reason);
    const call = await this.state.getCall(callId);
    const session = call?.sessions[sessionId];
    if (!call || !session) return;
    try {
      await this.bus.request(session.instanceId, SessionMessage.remove, { sessionId, reason });
    } catch (err) {
      this.logger.warn(
        `serving instance did not remove the session, removing it from state [sessionId=${sessionId}]: ${(err as Error).message}`,
      );
      await this.membership.removeFromState(callId, sessionId, reason);
    }
  }

  /** Closes every remaining session of a call (after a host ended it). */
  async endCall(callId: string, reason: string): Promise<void> {
    const call = await this.state.getCall(callId);
    if (!call) return;
    for (const sessionId of Object.keys(call.sessions))
      await this.remove(callId, sessionId, reason);
  }

  /** Pauses or resumes the forwarding of a session's voice, wherever its media is. */
  async setAudioMuted(instanceId: string, sessionId: string, muted: boolean): Promise<void> {
    if (this.media.hasSession(sessionId)) return this.media.setAudioMuted(sessionId, muted);
    await this.bus
      .request(instanceId, SessionMessage.mute, { sessionId, muted })
      .catch(() => undefined);
  }

  /** Stops a session's screen forwarding, wherever its media is. */
  async screenOff(instanceId: string, sessionId: string): Promise<void> {
    if (this.media.hasSession(sessionId)) return this.media.setScreenStream(sessionId, null);
    await this.bus
      .request(instanceId, SessionMessage.screenOff, { sessionId })
      .catch(() => undefined);
  }
}
