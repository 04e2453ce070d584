import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { WEB_ASSETS, WebAssets, type WebAssetName } from './web-assets';

/** Same-origin only: the page's own script and styles, its socket and its media. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The calls page: `GET /` and its script and styles. */
@Controller()
export class WebController {
  constructor(private readonly assets: WebAssets) {}

  @Get()
  index(@Res() res: Response): Promise<void> {
    return this.send(res, 'index.html', { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
  }

  @Get('app.js')
  script(@Res() res: Response): Promise<void> {
    return this.send(res, 'app.js');
  }

  @Get('app.js.map')
  sourceMap(@Res() res: Response): Promise<void> {
    return this.send(res, 'app.js.map');
  }

  @Get('app.css')
  styles(@Res() res: Response): Promise<void> {
    return this.send(res, 'app.css');
  }

  private async send(
    res: Response,
    name: WebAssetName,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const body = await this.assets.get(name);
    res
      .status(200)
      .set({
        'Content-Type': WEB_ASSETS[name],
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        ...headers,
      })
      .send(body);
  }
}
