import { DEFAULT_STATE_BACKEND_MODE, parseStateBackendMode } from './state-backend-mode';

describe('parseStateBackendMode', () => {
  it.each([
    ['memory', 'memory'],
    ['redis', 'redis'],
    ['auto', 'auto'],
    ['  Redis ', 'redis'],
    ['MEMORY', 'memory'],
    ['\tAuTo\n', 'auto'],
  ])('parses %j as %s', (raw, mode) => {
    expect(parseStateBackendMode(raw)).toBe(mode);
  });

  it.each([[undefined], [null], [''], ['   ']])('gives the default for %j', (raw) => {
    expect(parseStateBackendMode(raw)).toBe(DEFAULT_STATE_BACKEND_MODE);
    expect(DEFAULT_STATE_BACKEND_MODE).toBe('auto');
  });

  it.each([['memroy'], ['in-memory'], ['redis-cluster'], ['multi-node'], ['0']])(
    'rejects %j (unlike the seed, an unknown value is an error, not a silent auto)',
    (raw) => {
      expect(parseStateBackendMode(raw)).toBeUndefined();
    },
  );
});
