import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const CLIENT_DIR = resolve(__dirname, 'client');

/**
 * Builds the calls page into `outDir`: `app.js` (the page's TypeScript bundled with socket.io-client
 * and livekit-client, minified, with a source map), `index.html` and `app.css`.
 */
export async function buildWebClient(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(CLIENT_DIR, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['chrome110', 'firefox115', 'safari16.4'],
    tsconfig: join(CLIENT_DIR, 'tsconfig.json'),
    logLevel: 'warning',
  });
  await Promise.all(
    ['index.html', 'app.css'].map((f) => copyFile(join(CLIENT_DIR, f), join(outDir, f))),
  );
}

// `npm run build` runs this file after `nest build`.
if (require.main === module) {
  const outDir = resolve(process.argv[2] ?? 'dist/web');
  buildWebClient(outDir).then(
    () => console.log(`calls page built [dir=${outDir}]`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
