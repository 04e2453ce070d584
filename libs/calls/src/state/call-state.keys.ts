/** Default key prefix: gives exactly the seed document's keys. */
export const DEFAULT_KEY_PREFIX = 'rustchat:calls:';

/** The three kinds of Redis keys of the seed's data model. */
export class CallStateKeys {
  constructor(private readonly prefix: string = DEFAULT_KEY_PREFIX) {}

  /** `<prefix>state:<call_id>`: the call state JSON. */
  state(callId: string): string {
    return `${this.prefix}state:${callId}`;
  }

  /** `<prefix>channel:<channel_id>`: the id of the channel's active call. */
  channel(channelId: string): string {
    return `${this.prefix}channel:${channelId}`;
  }

  /** `<prefix>active`: the set of active call ids. */
  active(): string {
    return `${this.prefix}active`;
  }
}
