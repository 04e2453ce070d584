import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import { SessionControlService } from '../cluster/session-control.service';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallSessionState, CallState } from '../state/call-state.types';
import { CallMembershipService } from './call-membership.service';
import { CallsBroadcaster } from '../gateway/calls-broadcaster';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';

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
  private readonly wire: MattermostWire;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly broadcaster: CallsBroadcaster,
    private readonly membership: CallMembershipService,
    private readonly sessions: SessionControlService,
  ) {
    this.wire = new MattermostWire(options.idCodec);
  }

  /** The channel's call, if the requester is its host or an admin. @throws CallNotFoundError, ForbiddenError */
  async authorize(principal: CallsPrincipal, channelId: string): Promise<CallState> {
    const call = await this.state.getCallByChannel(channelId);
    if (!call) throw new CallNotFoundError(`channel:${channelId}`);
    if (call.hostId === principal.userId) return call;
    const admin =
      principal.isAdmin === true || (await this.options.permissions.isAdmin(principal.userId));
    if (!admin) throw new ForbiddenError('no permissions');
    return call;
  }

  /** Makes another participant host (and host-locked). */
  async makeHost(principal: CallsPrincipal, channelId: string, newHostId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const userId = this.options.idCodec.fromWire(newHostId) ?? newHostId;
    const updated = await this.state
      .setHost(call.id, userId, { lock: true })
      .catch((err: unknown) => {
        throw err instanceof CallNotFoundError ? err : new SessionNotFoundError(call.id, userId);
      });
    if (updated.hostId !== call.hostId || updated.hostLockedUserId !== call.hostLockedUserId) {
      this.membership.hostChanged(updated);
    }
  }

  /** Mutes one session (advisory `host_mute` to its user, and enforced). */
  async mute(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    await this.muteSession(call, this.sessionIn(call, sessionId));
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
    const target = this.sessionIn(call, sessionId);
    if (call.screenSharingSessionId !== sessionId) return;
    this.broadcaster.toUser(
      target.userId,
      'host_screen_off',
      { channel_id: this.wire.id(call.channelId), session_id: sessionId },
      call.channelId,
    );
    const updated = await this.state.update(call.id, (c) =>
      c.screenSharingSessionId === sessionId
        ? { ...c, screenSharingSessionId: '', screenStartAt: 0 }
        : c,
    );
    await this.sessions.screenOff(target.instanceId, sessionId);
    if (updated)
      this.toParticipants(
        updated,
        'user_screen_off',
        this.wire.userIdAndSession(target.userId, sessionId),
      );
  }

  /** Lowers a session's raised hand. */
  async lowerHand(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const target = this.sessionIn(call, sessionId);
    if (!target.raisedHand) return;
    this.broadcaster.toUser(
      target.userId,
      'host_lower_hand',
      {
        call_id: this.wire.id(call.id),
        channel_id: this.wire.id(call.channelId),
        session_id: sessionId,
        host_id: this.wire.id(principal.userId),
      },
      call.channelId,
    );
    const updated = await this.state.setRaisedHand(call.id, sessionId, false);
    this.toParticipants(updated, 'user_unraise_hand', {
      ...this.wire.userIdAndSession(target.userId, sessionId),
      raised_hand: 0,
    });
  }

  /** Removes a session: `host_removed` to the participants, closed after a short grace. */
  async remove(principal: CallsPrincipal, channelId: string, sessionId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    const target = this.sessionIn(call, sessionId);
    this.toParticipants(call, 'host_removed', {
      call_id: this.wire.id(call.id),
      channel_id: this.wire.id(call.channelId),
      session_id: sessionId,
      user_id: this.wire.id(target.userId),
    });
    this.later(REMOVE_GRACE_MS, () => this.sessions.remove(call.id, sessionId, 'removed by host'));
  }

  /** Ends the call for everyone: `call_end` to the channel, remaining sessions closed after a grace. */
  async end(principal: CallsPrincipal, channelId: string): Promise<void> {
    const call = await this.authorize(principal, channelId);
    this.broadcaster.toChannel(call.channelId, 'call_end', {
      id: this.wire.id(call.id),
      call_id: this.wire.id(call.id),
    });
    this.logger.log(`call ended by host [callId=${call.id}, by=${principal.userId}]`);
    this.later(END_GRACE_MS, () => this.sessions.endCall(call.id, 'call ended by host'));
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async muteSession(call: CallState, target: CallSessionState): Promise<void> {
    if (!target.unmuted) return;
    this.broadcaster.toUser(
      target.userId,
      'host_mute',
      { channel_id: this.wire.id(call.channelId), session_id: target.sessionId },
      call.channelId,
    );
    const updated = await this.state.setMuted(call.id, target.sessionId, true);
    await this.sessions.setAudioMuted(target.instanceId, target.sessionId, true);
    this.toParticipants(
      updated,
      'user_muted',
      this.wire.userIdAndSession(target.userId, target.sessionId),
    );
  }

  private sessionIn(call: CallState, sessionId: string): CallSessionState {
    const session = call.sessions[sessionId];
    if (!session) throw new SessionNotFoundError(call.id, sessionId);
    return session;
  }

  private toParticipants(
    call: CallState,
    event: Parameters<CallsBroadcaster['toParticipants']>[2],
    data: Record<string, unknown>,
  ): void {
    this.broadcaster.toParticipants(
      call.channelId,
      Object.values(call.sessions).map((s) => s.userId),
      event,
      data,
    );
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
