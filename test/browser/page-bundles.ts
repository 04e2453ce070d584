import { join } from 'node:path';
import { build } from 'esbuild';

const PAGES = join(__dirname, 'pages');

/**
 * Bundles a page harness of test/browser/pages (with the npm packages it imports: livekit-client,
 * @mattermost/calls-common) into one browser script, in memory, from node_modules (no network).
 */
export async function bundlePage(name: 'livekit-harness' | 'mattermost-harness'): Promise<string> {
  const result = await build({
    entryPoints: [join(PAGES, `${name}.ts`)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110'],
    tsconfig: join(PAGES, 'tsconfig.json'),
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}
