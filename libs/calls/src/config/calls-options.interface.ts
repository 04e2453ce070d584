import type { CallsIdentity } from '../identity/calls-identity.interface';
import type { CallsPermissions } from '../identity/calls-permissions.interface';
import type { CallsIdCodec } from '../identity/id-codec.interface';
import type { StateBackendMode } from './state-backend-mode';

/** Options of {@link CallsModule}. Every field is optional; defaults are given per field. */
export interface CallsModuleOptions {
  /**
   * Where call state lives: `memory` (one instance), `redis` (shared; operations fail while Redis
   * is down) or `auto` (Redis when it answers, local memory when it does not).
   * Env: `RUSTCHAT_CALLS_STATE_BACKEND`.
   * @default 'auto'
   */
  stateBackend?: StateBackendMode;
  /**
   * Redis connection URL for the `redis` and `auto` backends. Env: `RUSTCHAT_REDIS_URL`.
   * @default 'redis://127.0.0.1:6379'
   */
  redisUrl?: string;
  /**
   * Redis Sentinel addresses (`host:port`; IPv6 as `[addr]:port`). When set, the state store, the
   * socket.io adapter and the instance bus ask these sentinels for the primary of
   * {@link redisSentinelName} and follow its failovers; `redisUrl` then only gives the
   * credentials, database and TLS (its host and port are not used).
   * Env: `RUSTCHAT_REDIS_SENTINELS` (comma separated).
   * @default [] (no Sentinel: `redisUrl` is the server)
   */
  redisSentinels?: string[];
  /**
   * The Sentinel master group name (with {@link redisSentinels}).
   * Env: `RUSTCHAT_REDIS_SENTINEL_NAME`.
   * @default 'mymaster'
   */
  redisSentinelName?: string;
  /**
   * Prefix of every Redis key; the default gives the seed's keys (`rustchat:calls:state:<id>`,
   * `rustchat:calls:channel:<id>`, `rustchat:calls:active`). Env: `RUSTCHAT_CALLS_REDIS_KEY_PREFIX`.
   * @default 'rustchat:calls:'
   */
  redisKeyPrefix?: string;
  /**
   * Time a Redis command may take before it counts as failed (ms).
   * Env: `RUSTCHAT_CALLS_REDIS_COMMAND_TIMEOUT_MS`.
   * @default 1000
   */
  redisCommandTimeoutMs?: number;
  /**
   * How often the `auto` backend probes Redis while it is away (ms).
   * Env: `RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS`.
   * @default 500
   */
  redisProbeIntervalMs?: number;
  /**
   * Compare-and-swap attempts before a state mutation gives up with `CallStateConflictError`.
   * @default 50
   */
  maxCasAttempts?: number;
  /**
   * This instance's id, recorded on the sessions it serves. Env: `RUSTCHAT_CALLS_INSTANCE_ID`.
   * @default `<hostname>-<pid>-<random>`
   */
  instanceId?: string;

  /**
   * How often this instance announces itself in Redis (ms). Env: `RUSTCHAT_CALLS_HEARTBEAT_MS`.
   * @default 1000
   */
  heartbeatIntervalMs?: number;
  /**
   * An instance not heard of for this long is dead: its sessions are removed from every call (ms).
   * Env: `RUSTCHAT_CALLS_INSTANCE_TTL_MS`.
   * @default 4000
   */
  instanceTtlMs?: number;
  /**
   * On SIGTERM (or SIGINT), the longest this instance waits for its participants' calls to end
   * (or for them to move to another instance) before it removes whoever is left and closes (ms).
   * Give the process manager at least this long before it kills the process (Kubernetes
   * `terminationGracePeriodSeconds`, systemd `TimeoutStopSec`). Env: `RUSTCHAT_CALLS_DRAIN_TIMEOUT_MS`.
   * @default 3600000 (one hour)
   */
  drainTimeoutMs?: number;

  // --- the host app's seams -------------------------------------------------------------------
  /**
   * Who is this socket / HTTP request. Without it nobody is authenticated (all sockets refused,
   * all requests 401) and the module warns at boot.
   */
  identity?: CallsIdentity;
  /** What a user may do. Without it nobody may join any call. */
  permissions?: CallsPermissions;
  /**
   * Internal ↔ Mattermost id conversion. Default from `idFormat`.
   */
  idCodec?: CallsIdCodec;
  /**
   * Built-in id codec when `idCodec` is not given: `plain` (ids are the same on the wire) or
   * `uuid-mattermost` (internal UUIDs ↔ 26-character Mattermost ids). Env: `RUSTCHAT_CALLS_ID_FORMAT`.
   * @default 'plain'
   */
  idFormat?: 'plain' | 'uuid-mattermost';

  // --- signaling ------------------------------------------------------------------------------
  /**
   * Most sessions in one call; 0 = unlimited (Mattermost's `MaxCallParticipants`).
   * Env: `RUSTCHAT_CALLS_MAX_PARTICIPANTS`.
   * @default 0
   */
  maxCallParticipants?: number;
  /**
   * Messages per second one socket may send (token bucket refill). Env: `RUSTCHAT_CALLS_WS_RATE`.
   * @default 10
   */
  wsMessageRate?: number;
  /**
   * Burst of messages one socket may send at once. Env: `RUSTCHAT_CALLS_WS_BURST`.
   * @default 100
   */
  wsMessageBurst?: number;
  /**
   * REST requests per second per user. Env: `RUSTCHAT_CALLS_HTTP_RATE`.
   * @default 1
   */
  httpRequestRate?: number;
  /**
   * REST request burst per user. Env: `RUSTCHAT_CALLS_HTTP_BURST`.
   * @default 10
   */
  httpRequestBurst?: number;
  /**
   * Largest SDP accepted, after decompression (bytes). Env: `RUSTCHAT_CALLS_MAX_SDP_BYTES`.
   * @default 65536
   */
  maxSdpBytes?: number;
  /**
   * How long a session whose socket vanished waits for `reconnect` before it is removed (ms).
   * Env: `RUSTCHAT_CALLS_RECONNECT_GRACE_MS`.
   * @default 10000
   */
  reconnectGraceMs?: number;
  /**
   * The least time between two batches of join and leave announcements of a channel (ms): the
   * announcements of one turn of the event loop always go together, and those that come within
   * this window after the channel's last batch wait for its end. A lone join is never held. 0: one
   * batch per turn, which in a burst of joins already makes batches of dozens (joins complete in
   * waves); a window also batches a steady stream of arrivals (fewer writes, a bigger synchronous
   * fan-out per batch). The joiner's own acknowledgement, answer and call state never wait. Env:
   * `RUSTCHAT_CALLS_ANNOUNCE_WINDOW_MS`.
   * @default 0
   */
  announceWindowMs?: number;
  /**
   * Whether participants may share their screen. Env: `RUSTCHAT_CALLS_ALLOW_SCREEN_SHARING`.
   * @default true
   */
  allowScreenSharing?: boolean;

  // --- Video --------------------------------------------------------------------------------
  /**
   * Whether participants may turn their camera on (Mattermost's `EnableVideo`, reported by
   * `GET /config`; LiveKit clients are not given the camera source). Env:
   * `RUSTCHAT_CALLS_ENABLE_VIDEO`.
   * @default true
   */
  enableVideo?: boolean;
  /**
   * Most cameras on at the same time in one call (0 = no limit); one more is refused. Env:
   * `RUSTCHAT_CALLS_MAX_CAMERAS`.
   * @default 16
   */
  maxCallCameras?: number;
  /**
   * Whether Mattermost clients are told to send video in two simulcast layers (`EnableSimulcast`
   * in `GET /config`; stock clients then send rids `l`, 5 fps and 500 kbit/s, and `h`, 20 fps and
   * 2.5 Mbit/s). The server accepts simulcast whatever this says, from every client, and gives each
   * viewer the layer its bandwidth and its tile allow. Env: `RUSTCHAT_CALLS_ENABLE_SIMULCAST`.
   * @default false (Mattermost's default: the client sends one layer)
   */
  enableSimulcast?: boolean;
  /**
   * Most bitrate (kbit/s) one session's client may send, its camera, screen and voice together
   * (0 = no cap): the server holds its estimate of the client's uplink there, which the client's
   * encoders follow. Env: `RUSTCHAT_CALLS_VIDEO_MAX_SEND_KBPS`.
   * @default 6000
   */
  videoMaxSendKbps?: number;
  /**
   * Most video bitrate (kbit/s) the server sends one session, all the cameras and the screen it
   * receives together (0 = as much as its bandwidth estimate allows): the simulcast layers it gets
   * are chosen within it, the screen share's first. Env: `RUSTCHAT_CALLS_VIDEO_MAX_RECEIVE_KBPS`.
   * @default 0
   */
  videoMaxReceiveKbps?: number;

  // --- ICE servers for clients ---------------------------------------------------------------
  /**
   * STUN server URLs given to clients (`stun:host:port`). Env: `RUSTCHAT_CALLS_STUN_SERVERS` (comma separated).
   * @default []
   */
  stunServers?: string[];
  /**
   * TURN server URLs given to clients, with short-lived credentials from `/turn-credentials`.
   * Env: `RUSTCHAT_CALLS_TURN_SERVER_URL` (comma separated).
   * @default []
   */
  turnServerUrls?: string[];
  /**
   * Shared secret of the TURN server's REST API auth (coturn `static-auth-secret`); never shown.
   * Env: `RUSTCHAT_CALLS_TURN_STATIC_AUTH_SECRET`.
   * @default ''
   */
  turnStaticAuthSecret?: string;
  /**
   * Lifetime of TURN credentials (minutes). Env: `RUSTCHAT_CALLS_TURN_TTL_MINUTES`.
   * @default 240
   */
  turnCredentialsTtlMinutes?: number;

  // --- LiveKit client protocol ----------------------------------------------------------------
  /**
   * API keys of the LiveKit endpoint: API key → API secret (HS256; each secret at least 32
   * characters). A token's `iss` names its key. None: the LiveKit endpoint is off (its paths are
   * not served, `livekit-token` answers `livekit_disabled`). Secrets are never logged or returned.
   * Env: `RUSTCHAT_CALLS_LIVEKIT_KEYS` (`key1:secret1,key2:secret2`).
   * @default {}
   */
  livekitKeys?: Readonly<Record<string, string>>;
  /**
   * Path of the LiveKit endpoint on the host app's HTTP server: clients connect to
   * `<path>/rtc` (WebSocket) and probe `<path>/rtc/validate`. Env: `RUSTCHAT_CALLS_LIVEKIT_PATH`.
   * @default '/livekit'
   */
  livekitPath?: string;
  /**
   * LiveKit URL given to clients by `livekit-token` (e.g. `wss://chat.example.com/livekit`).
   * Empty: derived from the request (`X-Forwarded-Proto`/`Host`) as `ws(s)://<host><livekitPath>`.
   * Env: `RUSTCHAT_CALLS_LIVEKIT_URL`.
   * @default ''
   */
  livekitUrl?: string;
  /**
   * Whether `GET /version` announces the LiveKit transport (a 2.x version, which LiveKit-era
   * Mattermost clients read as "use LiveKit"). Off, it says 1.6.0 and v1 clients stay on the
   * calls WebSocket protocol. Env: `RUSTCHAT_CALLS_LIVEKIT_ANNOUNCE`.
   * @default false
   */
  livekitAnnounce?: boolean;

  // --- media (mediasoup SFU) --------------------------------------------------------------------
  /**
   * mediasoup worker processes to run; 0 disables media on this instance (`SfuService` then
   * refuses sessions with `SfuUnavailableError`). Env: `RUSTCHAT_CALLS_WORKERS`.
   * @default the number of CPU cores
   */
  rtcWorkers?: number;
  /**
   * Sessions one router of a call takes before the call opens another router on another worker
   * (one worker runs on one core: a call spread over the workers uses every core); the routers
   * of a call are piped together. 0 keeps every call on one router. Env:
   * `RUSTCHAT_CALLS_ROUTER_MAX_SESSIONS`.
   * @default 100
   */
  maxSessionsPerRouter?: number;
  /**
   * IP address the RTC sockets listen on. Env: `RUSTCHAT_CALLS_LISTEN_IP`.
   * @default '0.0.0.0'
   */
  rtcListenIp?: string;
  /**
   * Address (IP or host name) announced in the server's ICE candidates, for NAT and containers.
   * Empty: the listen IP, or when that is a wildcard (`0.0.0.0`, `::`), the host's first
   * non-internal IPv4 address (`127.0.0.1` when it has none). Env: `RUSTCHAT_CALLS_ICE_HOST_OVERRIDE`.
   * @default ''
   */
  iceHostOverride?: string;
  /**
   * Address (IP or host name) other instances send this instance's piped media to. A call with
   * participants on several instances forwards each participant's media to the other instances
   * through mediasoup PipeTransports (UDP, SRTP, ports from `rtcMinPort`–`rtcMaxPort`); the
   * address must be the one this instance's packets come from as the others see them (a host
   * name is resolved by the receiving instance). Empty: the ICE announced address (see
   * `iceHostOverride`), else the listen IP. Env: `RUSTCHAT_CALLS_PIPE_ADDRESS`.
   * @default ''
   */
  pipeAddress?: string;
  /**
   * Lowest port of the per-session RTC sockets (used when `udpPort` is 0) and of the pipes
   * between instances (always). Env: `RUSTCHAT_CALLS_RTC_MIN_PORT`.
   * @default 40000
   */
  rtcMinPort?: number;
  /**
   * Highest port of the per-session RTC sockets (used when `udpPort` is 0) and of the pipes
   * between instances (always). Env: `RUSTCHAT_CALLS_RTC_MAX_PORT`.
   * @default 49999
   */
  rtcMaxPort?: number;
  /**
   * One UDP port per worker for all sessions (mediasoup `WebRtcServer`, like Mattermost's 8443):
   * worker i listens on `udpPort + i`. 0: every session gets its own port from the range.
   * Env: `RUSTCHAT_CALLS_UDP_PORT`.
   * @default 0
   */
  udpPort?: number;
  /**
   * TCP port per worker for ICE-TCP candidates when `udpPort` is set (worker i: `tcpPort + i`);
   * 0 = the same number as `udpPort`. Env: `RUSTCHAT_CALLS_TCP_PORT`.
   * @default 0
   */
  tcpPort?: number;
  /**
   * Whether the server also offers ICE-TCP (passive) candidates. Env: `RUSTCHAT_CALLS_ENABLE_TCP`.
   * @default true
   */
  rtcEnableTcp?: boolean;
  /**
   * Seconds without ICE consent checks from a client before its ICE state becomes `disconnected`
   * (RFC 7675; mediasoup allows 10 to 60). Env: `RUSTCHAT_CALLS_ICE_CONSENT_TIMEOUT_SEC`.
   * @default 15
   */
  iceConsentTimeoutSec?: number;
  /**
   * How long a `disconnected` session may recover by itself before the server restarts ICE (ms).
   * Env: `RUSTCHAT_CALLS_ICE_DISCONNECT_GRACE_MS`.
   * @default 2000
   */
  iceDisconnectGraceMs?: number;
  /**
   * Server-initiated ICE restarts per outage before the session is closed (0: close at once).
   * Env: `RUSTCHAT_CALLS_ICE_RESTART_MAX_ATTEMPTS`.
   * @default 3
   */
  iceRestartMaxAttempts?: number;
  /**
   * Wait after the first ICE restart for the session to connect (ms); doubled after every further
   * attempt. Env: `RUSTCHAT_CALLS_ICE_RESTART_BACKOFF_MS`.
   * @default 4000
   */
  iceRestartBackoffMs?: number;
  /**
   * How long the server waits for a client's answer to its offer (ms) before it gives the offer up.
   * Env: `RUSTCHAT_CALLS_SIGNALING_TIMEOUT_MS`.
   * @default 10000
   */
  signalingTimeoutMs?: number;
}

/** {@link CallsModuleOptions} with every default applied. */
export type ResolvedCallsOptions = Required<CallsModuleOptions>;
