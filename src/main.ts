import { ConsoleLogger, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CallsIoAdapter, callsOptionsFromEnv } from '@app/calls';
import { AppModule } from './app.module';
import { defaultDemoLiveKitKeys } from './demo-livekit-keys';

async function bootstrap(): Promise<void> {
  const liveKitDefault = defaultDemoLiveKitKeys(process.env);
  // Fail fast, before Nest logs anything, with one message naming every bad variable.
  callsOptionsFromEnv(process.env);
  // LOG_FORMAT=json: one JSON object per line (level, context, message with [callId=…] context).
  const logger = new ConsoleLogger({ json: process.env.LOG_FORMAT === 'json' });
  const app = await NestFactory.create(AppModule, { abortOnError: false, logger });
  if (liveKitDefault) Logger.log(liveKitDefault, 'Bootstrap');
  app.enableShutdownHooks();
  // socket.io spans instances through Redis when the state backend is redis or auto.
  const adapter = new CallsIoAdapter(app);
  await adapter.connect();
  app.useWebSocketAdapter(adapter);
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '0.0.0.0';
  await app.listen(port, host);
  Logger.log(`chat host app listening [url=${await app.getUrl()}]`, 'Bootstrap');
}

bootstrap().catch((err: unknown) => {
  // A bad configuration ends up here: print the one message that names every bad variable.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
