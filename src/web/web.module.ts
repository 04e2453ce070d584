import { Module } from '@nestjs/common';
import { DemoAuthModule } from '../auth/demo-auth.module';
import { DisplayNames } from './display-names';
import { DisplayNamesController } from './display-names.controller';
import { WebAssets } from './web-assets';
import { WebController } from './web.controller';

/**
 * The demo host's calls page (`GET /`): plain TypeScript built by `npm run build` into `dist/web`
 * (see `build-web-client.ts`), plus the display names its participant list shows.
 */
@Module({
  imports: [DemoAuthModule],
  controllers: [WebController, DisplayNamesController],
  providers: [WebAssets, DisplayNames],
})
export class WebModule {}
