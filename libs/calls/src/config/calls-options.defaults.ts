import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { InvalidCallsConfigError } from '../errors/invalid-calls-config.error';
import { DenyAllIdentity } from '../identity/deny-all.identity';
import { PlainIdCodec } from '../identity/id-codec.interface';
import { UuidMattermostIdCodec } from '../identity/uuid-mattermost-id-codec';
import { DEFAULT_KEY_PREFIX } from './redis-key-prefix';
import { DEFAULT_STATE_BACKEND_MODE } from './state-backend-mode';
import type { CallsModuleOptions, ResolvedCallsOptions } from './calls-options.interface';
import { rtcPortProblems } from './calls-env';
import { DEFAULT_LIVEKIT_PATH, liveKitKeyProblems, normalizeLiveKitPath } from './livekit-keys';

/** A readable, unique-enough id for this process. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const DENY_ALL = new DenyAllIdentity();

/** Applies the documented defaults. */
export function resolveCallsOptions(options: CallsModuleOptions): ResolvedCallsOptions {
  checkLiveKitKeys(options);
  return {
    stateBackend: options.stateBackend ?? DEFAULT_STATE_BACKEND_MODE,
    redisUrl: options.redisUrl ?? 'redis://127.0.0.1:6379',
    redisSentinels: [...(options.redisSentinels ?? [])],
    redisSentinelName: options.redisSentinelName ?? 'mymaster',
    redisKeyPrefix: options.redisKeyPrefix ?? DEFAULT_KEY_PREFIX,
    redisCommandTimeoutMs: options.redisCommandTimeoutMs ?? 1000,
    redisProbeIntervalMs: options.redisProbeIntervalMs ?? 500,
    maxCasAttempts: options.maxCasAttempts ?? 50,
    instanceId: options.instanceId ?? defaultInstanceId(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    instanceTtlMs: options.instanceTtlMs ?? 4000,
    drainTimeoutMs: options.drainTimeoutMs ?? 3_600_000,
    identity: options.identity ?? DENY_ALL,
    permissions: options.permissions ?? DENY_ALL,
    idFormat: options.idFormat ?? 'plain',
    idCodec:
      options.idCodec ??
      (options.idFormat === 'uuid-mattermost' ? new UuidMattermostIdCodec() : new PlainIdCodec()),
    maxCallParticipants: options.maxCallParticipants ?? 0,
    wsMessageRate: options.wsMessageRate ?? 10,
    wsMessageBurst: options.wsMessageBurst ?? 100,
    httpRequestRate: options.httpRequestRate ?? 1,
    httpRequestBurst: options.httpRequestBurst ?? 10,
    maxSdpBytes: options.maxSdpBytes ?? 65536,
    reconnectGraceMs: options.reconnectGraceMs ?? 10_000,
    announceWindowMs: options.announceWindowMs ?? 0,
    allowScreenSharing: options.allowScreenSharing ?? true,
    enableVideo: options.enableVideo ?? true,
    maxCallCameras: options.maxCallCameras ?? 16,
    enableSimulcast: options.enableSimulcast ?? false,
    videoMaxSendKbps: options.videoMaxSendKbps ?? 6000,
    videoMaxReceiveKbps: options.videoMaxReceiveKbps ?? 0,
    stunServers: options.stunServers ?? [],
    turnServerUrls: options.turnServerUrls ?? [],
    turnStaticAuthSecret: options.turnStaticAuthSecret ?? '',
    turnCredentialsTtlMinutes: options.turnCredentialsTtlMinutes ?? 240,
    livekitKeys: options.livekitKeys ?? {},
    livekitPath: normalizeLiveKitPath(options.livekitPath ?? DEFAULT_LIVEKIT_PATH),
    livekitUrl: options.livekitUrl ?? '',
    livekitAnnounce: options.livekitAnnounce ?? false,
    ...resolveMediaOptions(options),
  };
}

/** The LiveKit keys, checked like their environment variable (a short secret is refused). */
function checkLiveKitKeys(options: CallsModuleOptions): void {
  const problems = liveKitKeyProblems(options.livekitKeys ?? {});
  if (problems.length > 0) throw new InvalidCallsConfigError(problems);
}

/** Defaults of the media (SFU) options; a port range whose ends are swapped is refused. */
function resolveMediaOptions(options: CallsModuleOptions) {
  const media = {
    rtcWorkers: options.rtcWorkers ?? availableParallelism(),
    maxSessionsPerRouter: options.maxSessionsPerRouter ?? 100,
    rtcListenIp: options.rtcListenIp ?? '0.0.0.0',
    iceHostOverride: options.iceHostOverride ?? '',
    pipeAddress: options.pipeAddress ?? '',
    rtcMinPort: options.rtcMinPort ?? 40000,
    rtcMaxPort: options.rtcMaxPort ?? 49999,
    udpPort: options.udpPort ?? 0,
    tcpPort: options.tcpPort ?? 0,
    rtcEnableTcp: options.rtcEnableTcp ?? true,
    iceConsentTimeoutSec: options.iceConsentTimeoutSec ?? 15,
    iceDisconnectGraceMs: options.iceDisconnectGraceMs ?? 2000,
    iceRestartMaxAttempts: options.iceRestartMaxAttempts ?? 3,
    iceRestartBackoffMs: options.iceRestartBackoffMs ?? 4000,
    signalingTimeoutMs: options.signalingTimeoutMs ?? 10_000,
  };
  const problems = rtcPortProblems(media);
  if (problems.length > 0) throw new InvalidCallsConfigError(problems);
  return media;
}
