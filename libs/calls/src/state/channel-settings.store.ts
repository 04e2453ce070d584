import { Injectable } from '@nestjs/common';
import { CallStateRepository, InjectCallStateRepository } from './call-state.repository';

/**
 * Whether calls are enabled in a channel (Mattermost's `POST /{channel_id}`, admins only). Calls
 * are enabled unless disabled. Kept by the call state backend, with the same fallback policy: the
 * Redis hash `<prefix>channels` with `redis` and `auto` (so every instance agrees; `auto` keeps
 * working from memory while Redis is away), process memory with `memory`.
 */
@Injectable()
export class ChannelSettingsStore {
  constructor(@InjectCallStateRepository() private readonly state: CallStateRepository) {}

  /** Whether calls are enabled in the channel. */
  isEnabled(channelId: string): Promise<boolean> {
    return this.state.isChannelEnabled(channelId);
  }

  /** Enables or disables calls in the channel. */
  setEnabled(channelId: string, enabled: boolean): Promise<void> {
    return this.state.setChannelEnabled(channelId, enabled);
  }
}
