import { registerAs } from '@nestjs/config';
import { InvalidCallsConfigError } from '../errors/invalid-calls-config.error';
import { STATE_BACKEND_MODES } from '../state/state-backend-mode';
import type { CallsModuleOptions } from './calls-options.interface';
import { type EnvParser, integer, matching, oneOf, url } from './env-parsers';

type EnvTable = {
  [K in keyof CallsModuleOptions]-?: {
    readonly name: string;
    readonly parser: EnvParser<NonNullable<CallsModuleOptions[K]>>;
  };
};

/** Every environment variable the module reads, the option it sets and its allowed values. */
export const CALLS_ENV: EnvTable = {
  stateBackend: { name: 'RUSTCHAT_CALLS_STATE_BACKEND', parser: oneOf(STATE_BACKEND_MODES) },
  redisUrl: { name: 'RUSTCHAT_REDIS_URL', parser: url(['redis:', 'rediss:']) },
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
};

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
      const shown = JSON.stringify(redactCredentials(raw));
      problems.push(`${name}=${shown} is not allowed; expected ${parser.allowed}`);
    } else {
      options[option] = value;
    }
  }
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
