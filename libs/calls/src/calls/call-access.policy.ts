import { Injectable } from '@nestjs/common';
import { ForbiddenError } from '../errors/forbidden.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallsPermissions, InjectCallsPermissions } from '../identity/calls-permissions.interface';
import type { CallState } from '../state/call-state.types';

/**
 * Who may do what, in one place, on the host app's {@link CallsPermissions}: reaching a channel's
 * call (join, reconnect, read its state) needs `canJoinChannel`; channel settings need an admin;
 * host controls need the call's host or an admin. A failed permission check counts as a refusal.
 */
@Injectable()
export class CallAccessPolicy {
  constructor(@InjectCallsPermissions() private readonly permissions: CallsPermissions) {}

  /** Whether the user may join (and so see) the channel's call. */
  canJoin(userId: string, channelId: string): Promise<boolean> {
    return this.permissions.canJoinChannel(userId, channelId).catch(() => false);
  }

  /** @throws ForbiddenError unless the user may join the channel's call. */
  async assertCanJoin(userId: string, channelId: string): Promise<void> {
    if (!(await this.canJoin(userId, channelId))) throw new ForbiddenError('Forbidden');
  }

  /** Whether the principal is an admin (said by the identity, or by the permissions). */
  async isAdmin(principal: CallsPrincipal): Promise<boolean> {
    if (principal.isAdmin === true) return true;
    return this.permissions.isAdmin(principal.userId).catch(() => false);
  }

  /** @throws ForbiddenError unless the principal is an admin. */
  async assertAdmin(principal: CallsPrincipal): Promise<void> {
    if (!(await this.isAdmin(principal))) throw new ForbiddenError('Forbidden');
  }

  /** @throws ForbiddenError (`no permissions`, Mattermost's words) unless host or admin. */
  async assertHostOrAdmin(principal: CallsPrincipal, call: CallState): Promise<void> {
    if (call.hostId === principal.userId) return;
    if (!(await this.isAdmin(principal))) throw new ForbiddenError('no permissions');
  }

  /** Channels whose call events a new connection of the user follows from the start. */
  async channelsToFollow(userId: string): Promise<readonly string[]> {
    return (await this.permissions.channelsForUser?.(userId).catch(() => [])) ?? [];
  }
}
