import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { CallsModule, callsConfig, type CallsModuleOptions } from '@app/calls';
import { HealthController } from './health/health.controller';

/**
 * The demo chat host: it mounts the calls plugin, configured from the environment, and exposes
 * `GET /health`.
 */
@Module({
  imports: [
    // callsConfig validates the calls variables when the app is created (one error lists them all).
    ConfigModule.forRoot({ isGlobal: true, load: [callsConfig] }),
    CallsModule.forRootAsync({
      inject: [callsConfig.KEY],
      useFactory: (options: CallsModuleOptions) => options,
    }),
    TerminusModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
