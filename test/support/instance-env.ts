/**
 * The environment of one instance of a test deployment whose instances share the Redis at
 * `redisUrl`: Redis state, one media worker and the pipes between instances on loopback, quick
 * heartbeats (an instance that died is noticed within 2 s) and rate limits out of the tests' way.
 * `extra` adds variables or overrides these.
 */
export function instanceEnv(
  redisUrl: string,
  instanceId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
    RUSTCHAT_REDIS_URL: redisUrl,
    RUSTCHAT_CALLS_INSTANCE_ID: instanceId,
    RUSTCHAT_CALLS_WORKERS: '1',
    RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
    RUSTCHAT_CALLS_PIPE_ADDRESS: '127.0.0.1',
    RUSTCHAT_CALLS_HEARTBEAT_MS: '500',
    RUSTCHAT_CALLS_INSTANCE_TTL_MS: '2000',
    RUSTCHAT_CALLS_WS_BURST: '10000',
    RUSTCHAT_CALLS_HTTP_BURST: '10000',
    ...extra,
  };
}
