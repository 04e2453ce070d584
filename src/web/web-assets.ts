import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The page's files and their content types. */
export const WEB_ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
} as const;

/** A page file name. */
export type WebAssetName = keyof typeof WEB_ASSETS;

/**
 * Where the built page lives: `DEMO_WEB_DIR` when set, else `dist/web` (next to the compiled
 * host app, or under the working directory when running from sources).
 */
export function webAssetsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEMO_WEB_DIR) return env.DEMO_WEB_DIR;
  const besideBuild = join(__dirname, '..', '..', 'web');
  return existsSync(join(besideBuild, 'index.html'))
    ? besideBuild
    : join(process.cwd(), 'dist', 'web');
}

/** Reads the built page's files once and keeps them in memory. */
@Injectable()
export class WebAssets {
  private readonly logger = new Logger(WebAssets.name);
  private readonly dir = webAssetsDir();
  private readonly cache = new Map<WebAssetName, Promise<Buffer>>();

  /** @throws NotFoundException when the page was not built */
  async get(name: WebAssetName): Promise<Buffer> {
    let content = this.cache.get(name);
    if (!content) {
      content = readFile(join(this.dir, name));
      this.cache.set(name, content);
    }
    try {
      return await content;
    } catch {
      this.cache.delete(name);
      this.logger.warn(`calls page file missing [file=${name}, dir=${this.dir}]`);
      throw new NotFoundException(`The calls page is not built (${name}): run npm run build.`);
    }
  }
}
