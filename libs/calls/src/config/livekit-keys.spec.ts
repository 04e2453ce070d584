import { InvalidCallsConfigError } from '../errors/invalid-calls-config.error';
import { callsOptionsFromEnv } from './calls-env';
import { resolveCallsOptions } from './calls-options.defaults';

const SECRET = 'x'.repeat(32);

describe('LiveKit configuration', () => {
  it('reads keys, path, URL and announce; the endpoint is off by default', () => {
    expect(resolveCallsOptions({})).toMatchObject({
      livekitKeys: {},
      livekitPath: '/livekit',
      livekitUrl: '',
      livekitAnnounce: false,
    });
    const options = callsOptionsFromEnv({
      RUSTCHAT_CALLS_LIVEKIT_KEYS: ` k1:${SECRET}, k2:${SECRET}y `,
      RUSTCHAT_CALLS_LIVEKIT_PATH: '/rtc-proxy/lk/',
      RUSTCHAT_CALLS_LIVEKIT_URL: 'wss://chat.example.com/rtc-proxy/lk',
      RUSTCHAT_CALLS_LIVEKIT_ANNOUNCE: 'true',
    });
    expect(options).toMatchObject({
      livekitKeys: { k1: SECRET, k2: `${SECRET}y` },
      livekitPath: '/rtc-proxy/lk',
      livekitUrl: 'wss://chat.example.com/rtc-proxy/lk',
      livekitAnnounce: true,
    });
  });

  it.each([
    ['a short secret', `k1:${'x'.repeat(31)}`],
    ['no secret', 'k1'],
    ['a key used twice', `k1:${SECRET},k1:${SECRET}`],
    ['an odd key name', `k 1:${SECRET}`],
  ])('refuses %s, never showing a secret', (_what, value) => {
    let error: unknown;
    try {
      callsOptionsFromEnv({ RUSTCHAT_CALLS_LIVEKIT_KEYS: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidCallsConfigError);
    expect((error as Error).message).toContain('RUSTCHAT_CALLS_LIVEKIT_KEYS=<hidden>');
    expect((error as Error).message).not.toContain('xxxx');
  });

  it('refuses a bad path or URL, and short secrets given in code', () => {
    expect(() => callsOptionsFromEnv({ RUSTCHAT_CALLS_LIVEKIT_PATH: 'livekit' })).toThrow(
      'RUSTCHAT_CALLS_LIVEKIT_PATH',
    );
    expect(() => callsOptionsFromEnv({ RUSTCHAT_CALLS_LIVEKIT_URL: 'ftp://x' })).toThrow(
      'RUSTCHAT_CALLS_LIVEKIT_URL',
    );
    expect(() => resolveCallsOptions({ livekitKeys: { k: 'short' } })).toThrow(
      InvalidCallsConfigError,
    );
  });
});
