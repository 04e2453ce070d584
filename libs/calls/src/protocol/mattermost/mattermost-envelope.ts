import { CALLS_EVENT_PREFIX, type ServerEvent } from './calls-events';

/** Mattermost's `broadcast` block of a WebSocket event. */
export interface MattermostBroadcast {
  readonly omit_users: null;
  readonly user_id: string;
  readonly channel_id: string;
  readonly team_id: string;
  readonly connection_id: string;
  readonly omit_connection_id: string;
}

/** A server → client event as Mattermost sends it, carried as the socket.io event's payload. */
export interface MattermostEnvelope<T extends object = Record<string, unknown>> {
  readonly event: string;
  readonly data: T;
  readonly broadcast: MattermostBroadcast;
  readonly seq: number;
}

/** Builds a Mattermost event envelope (`event`, `data`, `broadcast`, `seq`). */
export function mattermostEnvelope(
  event: ServerEvent | 'hello',
  data: Record<string, unknown>,
  broadcast: Partial<MattermostBroadcast>,
  seq = 0,
): MattermostEnvelope {
  return {
    event: event === 'hello' ? event : `${CALLS_EVENT_PREFIX}${event}`,
    data,
    broadcast: {
      omit_users: null,
      user_id: '',
      channel_id: '',
      team_id: '',
      connection_id: '',
      omit_connection_id: '',
      ...broadcast,
    },
    seq,
  };
}
