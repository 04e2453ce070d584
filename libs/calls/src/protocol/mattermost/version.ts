/**
 * The calls plugin version reported to Mattermost clients (`hello`, `GET /version`): ≥ 0.21.0
 * (multi-session clients) and < 1.7.0 (no data-channel signaling locks).
 */
export const MATTERMOST_PROTOCOL_VERSION = '1.6.0';
