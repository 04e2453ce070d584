import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CALLS_ENV } from './calls-env';

describe('configuration documentation', () => {
  it('README documents every environment variable the module reads', () => {
    const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
    const missing = Object.values(CALLS_ENV)
      .map((v) => v.name)
      .filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
