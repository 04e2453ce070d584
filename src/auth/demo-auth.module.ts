import { Module } from '@nestjs/common';
import { DemoAuthController } from './demo-auth.controller';
import { DemoAuthService } from './demo-auth.service';

/** The demo host's users: signed tokens for display names (see DemoAuthService). */
@Module({
  controllers: [DemoAuthController],
  providers: [DemoAuthService],
  exports: [DemoAuthService],
})
export class DemoAuthModule {}
