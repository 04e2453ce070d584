import { isIP } from 'node:net';
import { registerAs } from '@nestjs/config';
import { InvalidCallsConfigError } from '../errors/invalid-calls-config.error';
import { STATE_BACKEND_MODES } from './state-backend-mode';
import type { CallsModuleOptions } from './calls-options.interface';
import { liveKitKeys, liveKitPath } from './livekit-keys';
import {
  boolean,
  type EnvParser,
  integer,
  list,
  matching,
  oneOf,
  secret,
  url,
  zeroOr,
} from './env-parsers';

/** An IPv4 or IPv6 address (listen addresses). */
const ipAddress: EnvParser<string> = {
  parse: (raw) => (isIP(raw.trim()) ? raw.trim() : undefined),
  allowed: 'an IPv4 or IPv6 address (e.g. 0.0.0.0)',
};

/** A sentinel's address: `host:port` or `[ipv6]:port`, port 1 to 65535. */
const SENTINEL_ADDRESS =
  /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

/** Options that can come from the environment (the seams are objects, given in code). */
type EnvOptions = Omit<CallsModuleOptions, 'identity' | 'permissions' | 'idCodec'>;

type EnvTable = {
  [K in keyof EnvOptions]-?: {
    readonly name: string;
    readonly parser: EnvParser<NonNullable<EnvOptions[K]>>;
  };
};

/** Every environment variable the module reads, the option it sets and its allowed values. */
export const CALLS_ENV: EnvTable = {
  stateBackend: { name: 'RUSTCHAT_CALLS_STATE_BACKEND', parser: oneOf(STATE_BACKEND_MODES) },
  redisUrl: { name: 'RUSTCHAT_REDIS_URL', parser: url(['redis:', 'rediss:']) },
  redisSentinels: {
    name: 'RUSTCHAT_REDIS_SENTINELS',
    parser: list(SENTINEL_ADDRESS, 'host:port sentinel addresses (IPv6 as [addr]:port)'),
  },
  redisSentinelName: {
    name: 'RUSTCHAT_REDIS_SENTINEL_NAME',
    parser: matching(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 characters of letters, digits and . _ -'),
  },
  redisKeyPrefix: {
    name: 'RUSTCHAT_CALLS_REDIS_KEY_PREFIX',
    parser: matching(
      /^[A-Za-z0-9:._-]{1,64}$/,
      '1 to 64 characters of letters, digits and : . _ -',
    ),
  },
  redisCommandTimeoutMs: {
    name: 'RUSTCHAT_CALLS_REDIS_COMMAND_TIMEOUT_MS',
    parser: integer(50, 60_000),
  },
  redisProbeIntervalMs: {
    name: 'RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS',
    parser: integer(50, 60_000),
  },
  maxCasAttempts: { name: 'RUSTCHAT_CALLS_MAX_CAS_ATTEMPTS', parser: integer(1, 10_000) },
  instanceId: {
    name: 'RUSTCHAT_CALLS_INSTANCE_ID',
    parser: matching(
      /^[A-Za-z0-9._:@-]{1,128}$/,
      '1 to 128 characters of letters, digits and . _ : @ -',
    ),
  },
  heartbeatIntervalMs: { name: 'RUSTCHAT_CALLS_HEARTBEAT_MS', parser: integer(100, 60_000) },
  instanceTtlMs: { name: 'RUSTCHAT_CALLS_INSTANCE_TTL_MS', parser: integer(300, 600_000) },
  drainTimeoutMs: { name: 'RUSTCHAT_CALLS_DRAIN_TIMEOUT_MS', parser: integer(0, 86_400_000) },
  idFormat: {
    name: 'RUSTCHAT_CALLS_ID_FORMAT',
    parser: oneOf(['plain', 'uuid-mattermost'] as const),
  },
  maxCallParticipants: { name: 'RUSTCHAT_CALLS_MAX_PARTICIPANTS', parser: integer(0, 100_000) },
  wsMessageRate: { name: 'RUSTCHAT_CALLS_WS_RATE', parser: integer(1, 100_000) },
  wsMessageBurst: { name: 'RUSTCHAT_CALLS_WS_BURST', parser: integer(1, 100_000) },
  httpRequestRate: { name: 'RUSTCHAT_CALLS_HTTP_RATE', parser: integer(1, 100_000) },
  httpRequestBurst: { name: 'RUSTCHAT_CALLS_HTTP_BURST', parser: integer(1, 100_000) },
  maxSdpBytes: { name: 'RUSTCHAT_CALLS_MAX_SDP_BYTES', parser: integer(1024, 1_048_576) },
  reconnectGraceMs: { name: 'RUSTCHAT_CALLS_RECONNECT_GRACE_MS', parser: integer(0, 600_000) },
  announceWindowMs: { name: 'RUSTCHAT_CALLS_ANNOUNCE_WINDOW_MS', parser: integer(0, 1000) },
  allowScreenSharing: { name: 'RUSTCHAT_CALLS_ALLOW_SCREEN_SHARING', parser: boolean },
  enableVideo: { name: 'RUSTCHAT_CALLS_ENABLE_VIDEO', parser: boolean },
  maxCallCameras: { name: 'RUSTCHAT_CALLS_MAX_CAMERAS', parser: integer(0, 100_000) },
  enableSimulcast: { name: 'RUSTCHAT_CALLS_ENABLE_SIMULCAST', parser: boolean },
  // mediasoup refuses bitrate caps below 30 kbit/s.
  videoMaxSendKbps: {
    name: 'RUSTCHAT_CALLS_VIDEO_MAX_SEND_KBPS',
    parser: zeroOr(integer(100, 1_000_000)),
  },
  videoMaxReceiveKbps: {
    name: 'RUSTCHAT_CALLS_VIDEO_MAX_RECEIVE_KBPS',
    parser: zeroOr(integer(100, 1_000_000)),
  },
  stunServers: {
    name: 'RUSTCHAT_CALLS_STUN_SERVERS',
    parser: list(/^stuns?:[^\s,]+$/, 'stun:host[:port] URLs'),
  },
  turnServerUrls: {
    name: 'RUSTCHAT_CALLS_TURN_SERVER_URL',
    parser: list(/^turns?:[^\s,]+$/, 'turn:host[:port][?transport=udp|tcp] URLs'),
  },
  turnStaticAuthSecret: { name: 'RUSTCHAT_CALLS_TURN_STATIC_AUTH_SECRET', parser: secret },
  turnCredentialsTtlMinutes: {
    name: 'RUSTCHAT_CALLS_TURN_TTL_MINUTES',
    parser: integer(1, 10_079),
  },
  livekitKeys: { name: 'RUSTCHAT_CALLS_LIVEKIT_KEYS', parser: liveKitKeys },
  livekitPath: { name: 'RUSTCHAT_CALLS_LIVEKIT_PATH', parser: liveKitPath },
  livekitUrl: {
    name: 'RUSTCHAT_CALLS_LIVEKIT_URL',
    parser: url(['ws:', 'wss:', 'http:', 'https:']),
  },
  livekitAnnounce: { name: 'RUSTCHAT_CALLS_LIVEKIT_ANNOUNCE', parser: boolean },
  rtcWorkers: { name: 'RUSTCHAT_CALLS_WORKERS', parser: integer(0, 64) },
  maxSessionsPerRouter: {
    name: 'RUSTCHAT_CALLS_ROUTER_MAX_SESSIONS',
    parser: integer(0, 100_000),
  },
  rtcListenIp: { name: 'RUSTCHAT_CALLS_LISTEN_IP', parser: ipAddress },
  iceHostOverride: {
    name: 'RUSTCHAT_CALLS_ICE_HOST_OVERRIDE',
    parser: matching(/^[A-Za-z0-9.:-]{1,253}$/, 'an IP address or a host name'),
  },
  pipeAddress: {
    name: 'RUSTCHAT_CALLS_PIPE_ADDRESS',
    parser: matching(/^[A-Za-z0-9.:-]{1,253}$/, 'an IP address or a host name'),
  },
  rtcMinPort: { name: 'RUSTCHAT_CALLS_RTC_MIN_PORT', parser: integer(1024, 65535) },
  rtcMaxPort: { name: 'RUSTCHAT_CALLS_RTC_MAX_PORT', parser: integer(1024, 65535) },
  udpPort: { name: 'RUSTCHAT_CALLS_UDP_PORT', parser: integer(0, 65535) },
  tcpPort: { name: 'RUSTCHAT_CALLS_TCP_PORT', parser: integer(0, 65535) },
  rtcEnableTcp: { name: 'RUSTCHAT_CALLS_ENABLE_TCP', parser: boolean },
  iceConsentTimeoutSec: { name: 'RUSTCHAT_CALLS_ICE_CONSENT_TIMEOUT_SEC', parser: integer(10, 60) },
  iceDisconnectGraceMs: {
    name: 'RUSTCHAT_CALLS_ICE_DISCONNECT_GRACE_MS',
    parser: integer(0, 60_000),
  },
  iceRestartMaxAttempts: {
    name: 'RUSTCHAT_CALLS_ICE_RESTART_MAX_ATTEMPTS',
    parser: integer(0, 20),
  },
  iceRestartBackoffMs: {
    name: 'RUSTCHAT_CALLS_ICE_RESTART_BACKOFF_MS',
    parser: integer(100, 60_000),
  },
  signalingTimeoutMs: {
    name: 'RUSTCHAT_CALLS_SIGNALING_TIMEOUT_MS',
    parser: integer(1000, 120_000),
  },
};

/**
 * Problems of the RTC port settings taken together (each value alone is checked by its parser):
 * the range must not be empty, and the per-worker ports must fit below 65536.
 */
export function rtcPortProblems(o: {
  rtcMinPort?: number;
  rtcMaxPort?: number;
  udpPort?: number;
  tcpPort?: number;
  rtcWorkers?: number;
}): string[] {
  const problems: string[] = [];
  const [min, max] = [o.rtcMinPort ?? 40000, o.rtcMaxPort ?? 49999];
  if (min > max) {
    problems.push(
      `${CALLS_ENV.rtcMinPort.name}=${min} is above ${CALLS_ENV.rtcMaxPort.name}=${max}; expected min <= max`,
    );
  }
  const workers = Math.max(1, o.rtcWorkers ?? 1);
  for (const key of ['udpPort', 'tcpPort'] as const) {
    const port = o[key] ?? 0;
    if (port > 0 && port + workers - 1 > 65535) {
      problems.push(
        `${CALLS_ENV[key].name}=${port} leaves no room for ${workers} workers (port + worker index); expected at most ${65536 - workers}`,
      );
    }
  }
  return problems;
}

/** Hides a password in a URL-like value (`redis://user:secret@host` → `redis://user:***@host`). */
export function redactCredentials(value: string): string {
  return value.replace(/(\/\/[^:@/]*:)[^@/]*@/g, '$1***@');
}

/**
 * Reads the module's options from environment variables. Unset or empty variables keep the
 * defaults. All problems are collected and reported together.
 * @throws InvalidCallsConfigError naming every bad variable, its value and the allowed values
 */
export function callsOptionsFromEnv(env: Record<string, unknown>): CallsModuleOptions {
  const options: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [option, { name, parser }] of Object.entries(CALLS_ENV)) {
    const raw = env[name];
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    const value = parser.parse(raw);
    if (value === undefined) {
      const shown = parser.secret ? '<hidden>' : JSON.stringify(redactCredentials(raw));
      problems.push(`${name}=${shown} is not allowed; expected ${parser.allowed}`);
    } else {
      options[option] = value;
    }
  }
  if (problems.length === 0) problems.push(...rtcPortProblems(options));
  if (problems.length > 0) throw new InvalidCallsConfigError(problems);
  return options;
}

/**
 * `validate` function for `ConfigModule.forRoot`: stops the app at boot when a calls variable is
 * invalid, with one message naming all of them.
 */
export function validateCallsEnvironment(env: Record<string, unknown>): Record<string, unknown> {
  callsOptionsFromEnv(env);
  return env;
}

/** The module's options from `process.env`, as a `@nestjs/config` namespace (`calls`). */
export const callsConfig = registerAs('calls', (): CallsModuleOptions =>
  callsOptionsFromEnv(process.env),
);
