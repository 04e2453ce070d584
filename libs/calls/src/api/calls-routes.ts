/** Where clients find the plugin's REST API: Mattermost's path, and the `/api/v4` alias. */
export const CALLS_ROUTE_PREFIXES = [
  'plugins/com.mattermost.calls',
  'api/v4/plugins/com.mattermost.calls',
];
