import { InvalidCallsConfigError } from '../errors/invalid-calls-config.error';
import { callsOptionsFromEnv, redactCredentials } from './calls-env';

describe('callsOptionsFromEnv', () => {
  it('keeps defaults for unset and empty variables', () => {
    expect(callsOptionsFromEnv({ RUSTCHAT_CALLS_STATE_BACKEND: '' })).toEqual({});
  });

  it('reads every variable, trimming and ignoring case of the backend', () => {
    const options = callsOptionsFromEnv({
      RUSTCHAT_CALLS_STATE_BACKEND: ' Redis ',
      RUSTCHAT_REDIS_URL: 'redis://cache:6380/2',
      RUSTCHAT_CALLS_REDIS_KEY_PREFIX: 'tenant1:calls:',
      RUSTCHAT_CALLS_REDIS_COMMAND_TIMEOUT_MS: '250',
      RUSTCHAT_CALLS_INSTANCE_ID: 'node-a',
    });
    expect(options).toEqual({
      stateBackend: 'redis',
      redisUrl: 'redis://cache:6380/2',
      redisKeyPrefix: 'tenant1:calls:',
      redisCommandTimeoutMs: 250,
      instanceId: 'node-a',
    });
  });

  it('reports every bad variable with its allowed values in one error', () => {
    const read = () =>
      callsOptionsFromEnv({
        RUSTCHAT_CALLS_STATE_BACKEND: 'memroy',
        RUSTCHAT_REDIS_URL: 'http://localhost',
        RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS: '10',
      });
    expect(read).toThrow(InvalidCallsConfigError);
    try {
      read();
    } catch (err) {
      const { message, problems } = err as InvalidCallsConfigError;
      expect(problems).toHaveLength(3);
      expect(message).toContain('RUSTCHAT_CALLS_STATE_BACKEND="memroy"');
      expect(message).toContain('memory | redis | auto');
      expect(message).toContain('RUSTCHAT_REDIS_URL');
      expect(message).toContain('redis://');
      expect(message).toContain('RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS="10"');
      expect(message).toContain('from 50 to 60000');
    }
  });

  it('reads a Sentinel group: addresses (IPv6 in brackets) and the master name', () => {
    expect(
      callsOptionsFromEnv({
        RUSTCHAT_REDIS_SENTINELS: 's1:26379, 10.0.0.2:26380,[::1]:26381',
        RUSTCHAT_REDIS_SENTINEL_NAME: 'calls-primary',
      }),
    ).toEqual({
      redisSentinels: ['s1:26379', '10.0.0.2:26380', '[::1]:26381'],
      redisSentinelName: 'calls-primary',
    });
  });

  it.each([
    ['RUSTCHAT_REDIS_SENTINELS', 's1'],
    ['RUSTCHAT_REDIS_SENTINELS', 's1:0'],
    ['RUSTCHAT_REDIS_SENTINELS', 's1:65536'],
    ['RUSTCHAT_REDIS_SENTINELS', 'redis://s1:26379'],
    ['RUSTCHAT_REDIS_SENTINEL_NAME', 'my master'],
  ])('refuses %s=%s at boot', (name, value) => {
    expect(() => callsOptionsFromEnv({ [name]: value })).toThrow(name);
  });

  it('never prints a password from a bad URL', () => {
    try {
      callsOptionsFromEnv({ RUSTCHAT_REDIS_URL: 'redis://user:s3cret@host:notaport' });
      throw new Error('expected an error');
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
      expect((err as Error).message).toContain('redis://user:***@host');
    }
  });

  it('redacts credentials in URLs', () => {
    expect(redactCredentials('rediss://:pw@h:1')).toBe('rediss://:***@h:1');
    expect(redactCredentials('redis://h:1')).toBe('redis://h:1');
  });

  it('reads lists, booleans and secrets, and never echoes a secret', () => {
    expect(
      callsOptionsFromEnv({
        RUSTCHAT_CALLS_STUN_SERVERS: 'stun:a:3478, stun:b',
        RUSTCHAT_CALLS_ALLOW_SCREEN_SHARING: 'No',
        RUSTCHAT_CALLS_TURN_STATIC_AUTH_SECRET: 's3cret',
        RUSTCHAT_CALLS_ID_FORMAT: 'UUID-Mattermost',
      }),
    ).toEqual({
      stunServers: ['stun:a:3478', 'stun:b'],
      allowScreenSharing: false,
      turnStaticAuthSecret: 's3cret',
      idFormat: 'uuid-mattermost',
    });
    const bad = () =>
      callsOptionsFromEnv({ RUSTCHAT_CALLS_TURN_STATIC_AUTH_SECRET: 'x'.repeat(2000) });
    expect(bad).toThrow('RUSTCHAT_CALLS_TURN_STATIC_AUTH_SECRET=<hidden>');
    expect(() => callsOptionsFromEnv({ RUSTCHAT_CALLS_STUN_SERVERS: 'http://x' })).toThrow(
      'stun:host[:port]',
    );
  });

  it('reads the media (SFU) variables and checks the port settings together', () => {
    expect(
      callsOptionsFromEnv({
        RUSTCHAT_CALLS_WORKERS: '3',
        RUSTCHAT_CALLS_LISTEN_IP: ' 127.0.0.1 ',
        RUSTCHAT_CALLS_ICE_HOST_OVERRIDE: 'media.example.com',
        RUSTCHAT_CALLS_RTC_MIN_PORT: '41000',
        RUSTCHAT_CALLS_RTC_MAX_PORT: '41100',
        RUSTCHAT_CALLS_UDP_PORT: '8443',
        RUSTCHAT_CALLS_TCP_PORT: '8443',
        RUSTCHAT_CALLS_ENABLE_TCP: 'false',
        RUSTCHAT_CALLS_ICE_CONSENT_TIMEOUT_SEC: '10',
        RUSTCHAT_CALLS_ICE_DISCONNECT_GRACE_MS: '500',
        RUSTCHAT_CALLS_ICE_RESTART_MAX_ATTEMPTS: '2',
        RUSTCHAT_CALLS_ICE_RESTART_BACKOFF_MS: '1500',
        RUSTCHAT_CALLS_SIGNALING_TIMEOUT_MS: '5000',
        RUSTCHAT_CALLS_ENABLE_VIDEO: 'off',
        RUSTCHAT_CALLS_MAX_CAMERAS: '9',
        RUSTCHAT_CALLS_ENABLE_SIMULCAST: 'true',
        RUSTCHAT_CALLS_VIDEO_MAX_SEND_KBPS: '0',
        RUSTCHAT_CALLS_VIDEO_MAX_RECEIVE_KBPS: '2500',
      }),
    ).toEqual({
      rtcWorkers: 3,
      rtcListenIp: '127.0.0.1',
      iceHostOverride: 'media.example.com',
      rtcMinPort: 41000,
      rtcMaxPort: 41100,
      udpPort: 8443,
      tcpPort: 8443,
      rtcEnableTcp: false,
      iceConsentTimeoutSec: 10,
      iceDisconnectGraceMs: 500,
      iceRestartMaxAttempts: 2,
      iceRestartBackoffMs: 1500,
      signalingTimeoutMs: 5000,
      enableVideo: false,
      maxCallCameras: 9,
      enableSimulcast: true,
      videoMaxSendKbps: 0,
      videoMaxReceiveKbps: 2500,
    });
    // A bitrate cap is 0 (none) or at least 100 kbit/s (mediasoup refuses less than 30).
    expect(() => callsOptionsFromEnv({ RUSTCHAT_CALLS_VIDEO_MAX_RECEIVE_KBPS: '50' })).toThrow(
      'expected 0 or an integer from 100 to 1000000',
    );
    const bad = () =>
      callsOptionsFromEnv({
        RUSTCHAT_CALLS_LISTEN_IP: 'localhost',
        RUSTCHAT_CALLS_ICE_CONSENT_TIMEOUT_SEC: '5',
      });
    expect(bad).toThrow('RUSTCHAT_CALLS_LISTEN_IP="localhost"');
    expect(bad).toThrow('from 10 to 60');
    expect(() =>
      callsOptionsFromEnv({
        RUSTCHAT_CALLS_RTC_MIN_PORT: '50000',
        RUSTCHAT_CALLS_RTC_MAX_PORT: '40000',
      }),
    ).toThrow('expected min <= max');
    expect(() =>
      callsOptionsFromEnv({ RUSTCHAT_CALLS_WORKERS: '4', RUSTCHAT_CALLS_UDP_PORT: '65534' }),
    ).toThrow('RUSTCHAT_CALLS_UDP_PORT=65534 leaves no room for 4 workers');
  });
});
