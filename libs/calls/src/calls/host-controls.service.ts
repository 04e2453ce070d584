import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallSessionState, CallState } from '../state/call-state.types';
import { CallAccessPolicy } from './call-access.policy';
import { CallDelivery, InjectCallDelivery } from './call-delivery.interface';
import { CallMembershipService } from './call-membership.service';
import { InjectSessionControl, SessionControl } from './session-control.interface';

/** Time a removed session / an ended call gets to leave by itself before it is closed (ms). */
const REMOVE_GRACE_MS = 3000;
const END_GRACE_MS = 5000;

/**
 * Host controls (Mattermost's `/calls/{channel_id}/host/*`), for the host or an admin only.
 * Mattermost's are advisory (the target client obeys); here the server also enforces them:
 * a muted session's voice stops being forwarded, a stopped screen share is cleared, a lowered hand
 * is lowered, a removed session is closed, an ended call is closed.
 */
@Injectable()
export class HostControlsService implements OnApplicationShutdown {
  private readonly logger = new Logger(HostControlsService.name);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
    @InjectSessionControl() private readonly sessions: SessionControl,
    private readonly access: CallAccessPolicy,
    private readonly membership: CallMembershipService,
  ) {}

  /** The channel's call, if the requester is its host or an admin. @throws CallNotFoundError, ForbiddenError */
  async authorize(principal: CallsPrincipal, channelId: string): Promise<CallState> {
    const call = await this.state.getCallByChannel(channelId);
    if (!call) throw new CallNotFoundError(`channel:${channelId}`);
    await this.access.assertHostOrAdmin(principal, call);
    return call;
  }

  /** Makes another participant host (and host-locked). */
  async makeHost(principal: CallsPrincipal, channelId: string, newHostId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const updated = await this.state
      .setHost(call.id, newHostId, { lock: true })
      .catch((err: unknown) => {
        throw err instanceof CallNotFoundError ? err : new SessionNotFoundError(call.id, newHostId);
      });
    if (updated.hostId !== call.hostId || updated.hostLockedUserId !== call.hostLockedUserId) {
      this.membership.hostChanged(updated);
    }
  }

  /** Mutes one session (advisory `host-muted` to its user, and enforced). */
  async mute(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    await this.muteSession(call, sessionIn(call, sessionId));
  }

  /** Mutes every unmuted session except the requester's own. */
  async muteOthers(principal: CallsPrincipal, channelId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const targets = Object.values(call.sessions).filter(
      (s) => s.unmuted && s.userId !== principal.userId,
    );
    await Promise.all(targets.map((s) => this.muteSession(call, s)));
  }

  /** Stops a session's screen share. */
  async screenOff(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const target = sessionIn(call, sessionId);
    if (call.screenSharingSessionId !== sessionId) return;
    this.delivery.toUser(
      target.userId,
      { type: 'host-stopped-screen', channelId: call.channelId, sessionId },
      call.channelId,
    );
    const { call: updated, stopped } = await this.state.clearScreenSharer(call.id, sessionId);
    await this.sessions.screenOff(target.instanceId, sessionId);
    if (stopped) {
      this.delivery.toParticipants(updated, {
        type: 'screen',
        on: false,
        userId: target.userId,
        sessionId,
      });
    }
  }

  /** Lowers a session's raised hand. */
  async lowerHand(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const target = sessionIn(call, sessionId);
    if (!target.raisedHand) return;
    this.delivery.toUser(
      target.userId,
      { type: 'host-lowered-hand', call, sessionId, hostId: principal.userId },
      call.channelId,
    );
    const updated = await this.state.setRaisedHand(call.id, sessionId, false);
    this.delivery.toParticipants(updated, {
      type: 'hand',
      raisedHand: 0,
      userId: target.userId,
      sessionId,
    });
  }

  /** Removes a session: `host-removed` to the participants, closed after a short grace. */
  async remove(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const target = sessionIn(call, sessionId);
    this.delivery.toParticipants(call, {
      type: 'host-removed',
      call,
      userId: target.userId,
      sessionId,
    });
    this.later(REMOVE_GRACE_MS, () => this.sessions.remove(call.id, sessionId, 'removed by host'));
  }

  /** Ends the call for everyone: `call-ended` to the channel, sessions closed after a grace. */
  async end(principal: CallsPrincipal, channelId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    this.delivery.toChannel(call.channelId, { type: 'call-ended', call });
    this.logger.log(`call ended by host [callId=${call.id}, by=${principal.userId}]`);
    this.later(END_GRACE_MS, () => this.sessions.endCall(call.id, 'call ended by host'));
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async muteSession(call: CallState, target: CallSessionState): Promise<void> {
    if (!target.unmuted) return;
    const { userId, sessionId } = target;
    this.delivery.toUser(
      userId,
      { type: 'host-muted', channelId: call.channelId, sessionId },
      call.channelId,
    );
    const updated = await this.state.setMuted(call.id, sessionId, true);
    await this.sessions.setAudioMuted(target.instanceId, sessionId, true);
    this.delivery.toParticipants(updated, { type: 'muted', muted: true, userId, sessionId });
  }

  private later(ms: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn().catch((err: unknown) =>
        this.logger.warn(`host control follow-up failed: ${(err as Error).message}`),
      );
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

function sessionIn(call: CallState, sessionId: string): CallSessionState {
  const session = call.sessions[sessionId];
  if (!session) throw new SessionNotFoundError(call.id, sessionId);
  return session;
}
