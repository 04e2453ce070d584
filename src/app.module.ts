import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { CallsModule, callsConfig, type CallsModuleOptions } from '@app/calls';
import { DemoAuthModule } from './auth/demo-auth.module';
import { DemoAuthService } from './auth/demo-auth.service';
import { HealthController } from './health/health.controller';
import { WebModule } from './web/web.module';
import { MetricsController } from './metrics/metrics.controller';

/**
 * The demo chat host: it mounts the calls plugin, configured from the environment, with demo
 * users (signed tokens from `POST /demo/login`), and exposes `GET /health` and the calls page
 * (`GET /`).
 */
@Module({
  imports: [
    // callsConfig validates the calls variables when the app is created (one error lists them all).
    ConfigModule.forRoot({ isGlobal: true, load: [callsConfig] }),
    DemoAuthModule,
    CallsModule.forRootAsync({
      imports: [DemoAuthModule],
      inject: [callsConfig.KEY, DemoAuthService],
      useFactory: (options: CallsModuleOptions, auth: DemoAuthService) => ({
        ...options,
        identity: auth,
        permissions: auth,
      }),
    }),
    TerminusModule,
    WebModule,
  ],
  controllers: [HealthController, MetricsController],
})
export class AppModule {}
