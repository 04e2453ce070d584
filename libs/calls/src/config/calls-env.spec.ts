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
});
