import { Inject } from '@nestjs/common';

/**
 * Seam: what a user may do. The host app owns channels and roles; the module only asks.
 */
export interface CallsPermissions {
  /** May this user see and join calls in this channel (Mattermost: read_channel + create_post)? */
  canJoinChannel(userId: string, channelId: string): Promise<boolean>;
  /** Is this user a system administrator (host controls in any call)? */
  isAdmin(userId: string): Promise<boolean>;
  /**
   * Channels whose call events this user receives without being in the call (e.g. `call_start`
   * for ringing). Optional: without it, a socket receives a channel's events once it joined or
   * asked for that channel's `call_state`.
   */
  channelsForUser?(userId: string): Promise<readonly string[]>;
}

/** Injection token of {@link CallsPermissions}. */
export const CallsPermissions = Symbol('CallsPermissions');

/** Injects the {@link CallsPermissions}. */
export const InjectCallsPermissions = (): ParameterDecorator => Inject(CallsPermissions);
