import { readdirSync } from 'node:fs';
import * as errors from '.';
import { CALLS_ERROR_CODES, CallsError } from '.';

/** One instance of every error class (constructor arguments are placeholders). */
const INSTANCES: readonly CallsError[] = [
  new errors.AlreadyInCallError('s1'),
  new errors.CallFullError(8),
  new errors.CallNotFoundError('c1'),
  new errors.CallStateConflictError('c1', 3),
  new errors.CallStateUnavailableError('read', new Error('down')),
  new errors.CorruptCallStateError('calls:state:c1', 'not JSON'),
  new errors.DrainingError(),
  new errors.ForbiddenError('no permissions'),
  new errors.InstanceUnreachableError('i1', 'timeout'),
  new errors.InvalidCallStateInputError('callId', 'empty'),
  new errors.InvalidCallsConfigError(['RUSTCHAT_CALLS_WORKERS: not a number']),
  new errors.InvalidMessageError('data', 'is malformed'),
  new errors.InvalidSdpError('missing a=fingerprint'),
  new errors.LiveKitDisabledError(),
  new errors.MessageTooLargeError('sdp', 65536),
  new errors.NoCommonCodecError('audio', '0', ['G722']),
  new errors.NotInCallError(),
  new errors.RateLimitedError(),
  new errors.ScreenShareUnavailableError('someone else is sharing'),
  new errors.SessionNotFoundError('c1', 's1'),
  new errors.SfuSessionExistsError('s1', 'c1'),
  new errors.SfuSessionNotFoundError('s1'),
  new errors.SfuUnavailableError('no worker'),
  new errors.UnauthenticatedError(),
  new errors.UnexpectedSdpAnswerError('s1'),
  new errors.UnknownStateBackendError('sqlite'),
  new errors.VideoUnavailableError('the call has 16 cameras on'),
];

/** Every class the barrel exports that extends CallsError. */
const exportedClasses: readonly { readonly name: string }[] = Object.values(
  errors as Record<string, unknown>,
).filter(
  (v): v is abstract new (...args: never[]) => CallsError =>
    typeof v === 'function' && (v as { prototype: unknown }).prototype instanceof CallsError,
);

describe('CallsErrorCode', () => {
  it('has one instance above for every error class the barrel exports', () => {
    const instantiated = new Set<unknown>(INSTANCES.map((e) => e.constructor));
    expect(exportedClasses.filter((c) => !instantiated.has(c)).map((c) => c.name)).toEqual([]);
  });

  it('is exported by the barrel for every error file (one class per file)', () => {
    const files = readdirSync(__dirname).filter(
      (f) => f.endsWith('.error.ts') && f !== 'calls.error.ts',
    );
    expect(exportedClasses).toHaveLength(files.length);
  });

  it.each(INSTANCES.map((e) => [e.name, e] as const))(
    '%s has a code of the union and its own name',
    (name, err) => {
      expect(CALLS_ERROR_CODES).toContain(err.code);
      expect(err).toBeInstanceOf(CallsError);
      expect(name).toBe(err.constructor.name);
    },
  );

  it('has no code without an error class, and no code used twice', () => {
    const codes = INSTANCES.map((e) => e.code);
    expect([...new Set(codes)].sort()).toEqual([...CALLS_ERROR_CODES].sort());
    expect(new Set(codes).size).toBe(codes.length);
  });
});
