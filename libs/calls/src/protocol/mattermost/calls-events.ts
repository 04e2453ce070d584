/** Prefix of every Mattermost calls WebSocket action and event. */
export const CALLS_EVENT_PREFIX = 'custom_com.mattermost.calls_';

/** Client → server actions (socket.io event names). */
export const ClientAction = {
  join: `${CALLS_EVENT_PREFIX}join`,
  leave: `${CALLS_EVENT_PREFIX}leave`,
  reconnect: `${CALLS_EVENT_PREFIX}reconnect`,
  sdp: `${CALLS_EVENT_PREFIX}sdp`,
  ice: `${CALLS_EVENT_PREFIX}ice`,
  mute: `${CALLS_EVENT_PREFIX}mute`,
  unmute: `${CALLS_EVENT_PREFIX}unmute`,
  raiseHand: `${CALLS_EVENT_PREFIX}raise_hand`,
  unraiseHand: `${CALLS_EVENT_PREFIX}unraise_hand`,
  react: `${CALLS_EVENT_PREFIX}react`,
  screenOn: `${CALLS_EVENT_PREFIX}screen_on`,
  screenOff: `${CALLS_EVENT_PREFIX}screen_off`,
  videoOn: `${CALLS_EVENT_PREFIX}video_on`,
  videoOff: `${CALLS_EVENT_PREFIX}video_off`,
  /** An extension: how the client wants another session's video (see `parseTrackSettings`). */
  trackSettings: `${CALLS_EVENT_PREFIX}track_settings`,
  callState: `${CALLS_EVENT_PREFIX}call_state`,
  metric: `${CALLS_EVENT_PREFIX}metric`,
} as const;

/** Server → client events, without the prefix (the emitter adds it). */
export type ServerEvent =
  | 'join'
  | 'error'
  | 'signal'
  | 'call_start'
  | 'call_end'
  | 'call_state'
  | 'user_joined'
  | 'user_left'
  | 'user_muted'
  | 'user_unmuted'
  | 'user_voice_on'
  | 'user_voice_off'
  | 'user_screen_on'
  | 'user_screen_off'
  | 'user_video_on'
  | 'user_video_off'
  | 'user_raise_hand'
  | 'user_unraise_hand'
  | 'user_reacted'
  | 'call_host_changed'
  | 'user_dismissed_notification'
  | 'host_mute'
  | 'host_screen_off'
  | 'host_lower_hand'
  | 'host_removed'
  /** Not Mattermost's: this instance is shutting down; move to another one (join there, leave here). */
  | 'server_draining';

/** The `hello` event every accepted socket gets first (Mattermost's, with the connection id). */
export const HELLO_EVENT = 'hello';
