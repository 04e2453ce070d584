import { Injectable } from '@nestjs/common';
import { CallNotFoundError } from '../errors/call-not-found.error';
import type { CallsPrincipal } from '../identity/calls-identity.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallState } from '../state/call-state.types';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import { CallAccessPolicy } from './call-access.policy';
import { CallDelivery, InjectCallDelivery } from './call-delivery.interface';

/** A channel's calls entry: whether calls are enabled, and its call if one is active. */
export interface ChannelCalls {
  readonly channelId: string;
  readonly enabled: boolean;
  readonly call: CallState | null;
}

/**
 * What a user may read about calls, and the per-user and per-channel settings: each read is
 * checked by the {@link CallAccessPolicy} first.
 */
@Injectable()
export class CallQueriesService {
  constructor(
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
    private readonly access: CallAccessPolicy,
    private readonly channels: ChannelSettingsStore,
  ) {}

  /** The channel's call, or null. @throws ForbiddenError */
  async callOfChannel(userId: string, channelId: string): Promise<CallState | null> {
    await this.access.assertCanJoin(userId, channelId);
    return this.state.getCallByChannel(channelId);
  }

  /**
   * Lets a connection follow the channel's call events (`startFollowing`, once access is checked)
   * and returns the call as it is after that, so no event between the read and the follow is lost.
   * @throws ForbiddenError
   */
  async follow(
    userId: string,
    channelId: string,
    startFollowing: () => Promise<void> | void,
  ): Promise<CallState | null> {
    await this.access.assertCanJoin(userId, channelId);
    await startFollowing();
    return this.state.getCallByChannel(channelId);
  }

  /** The channel's entry. @throws ForbiddenError */
  async channel(userId: string, channelId: string): Promise<ChannelCalls> {
    const call = await this.callOfChannel(userId, channelId);
    return { channelId, enabled: await this.channels.isEnabled(channelId), call };
  }

  /** Every active call in a channel the user may join. */
  async activeCalls(userId: string): Promise<ChannelCalls[]> {
    const entries: ChannelCalls[] = [];
    for (const call of await this.state.listActiveCalls()) {
      if (!(await this.access.canJoin(userId, call.channelId))) continue;
      const enabled = await this.channels.isEnabled(call.channelId);
      entries.push({ channelId: call.channelId, enabled, call });
    }
    return entries;
  }

  /**
   * Hides the incoming-call notification of the channel's call for this user (told to the user's
   * connections only). @throws ForbiddenError, CallNotFoundError
   */
  async dismissNotification(userId: string, channelId: string): Promise<void> {
    const call = await this.callOfChannel(userId, channelId);
    if (!call) throw new CallNotFoundError(`channel:${channelId}`);
    await this.state.dismissNotification(call.id, userId);
    this.delivery.toUser(
      userId,
      { type: 'notification-dismissed', userId, callId: call.id },
      channelId,
    );
  }

  /** Enables or disables calls in a channel (admins only). @throws ForbiddenError */
  async setChannelEnabled(
    principal: CallsPrincipal,
    channelId: string,
    enabled: boolean,
  ): Promise<void> {
    await this.access.assertAdmin(principal);
    await this.channels.setEnabled(channelId, enabled);
  }
}
