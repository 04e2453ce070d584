/**
 * The calls plugin version reported to Mattermost clients (`hello`, `GET /version`): ≥ 0.21.0
 * (multi-session clients) and < 1.7.0 (no data-channel signaling locks).
 */
export const MATTERMOST_PROTOCOL_VERSION = '1.6.0';

/**
 * The version `GET /version` reports when the LiveKit transport is announced
 * (`livekitAnnounce`): LiveKit-era Mattermost clients (mobile compares with its LiveKit threshold)
 * then use LiveKit.
 */
export const MATTERMOST_LIVEKIT_VERSION = '2.0.0';
