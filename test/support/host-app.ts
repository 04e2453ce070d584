import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { io } from 'socket.io-client';
import request from 'supertest';
import { CallsIoAdapter } from '@app/calls';
import { AppModule } from '../../src/app.module';
import { TestClient } from './test-client';

export { TestClient, type Envelope } from './test-client';

/** The demo host app on a free loopback port, configured through the environment like in production. */
export class TestHostApp {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
    private readonly savedEnv: NodeJS.ProcessEnv,
  ) {}

  /** Starts it with `env` set; `logger` replaces Nest's console logger (errors and warnings). */
  static async start(env: Record<string, string>, logger?: LoggerService): Promise<TestHostApp> {
    const savedEnv = { ...process.env };
    Object.assign(process.env, env);
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: logger ?? ['error', 'warn'] });
    app.enableShutdownHooks();
    const adapter = new CallsIoAdapter(app);
    await adapter.connect();
    app.useWebSocketAdapter(adapter);
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    return new TestHostApp(app, url, savedEnv);
  }

  get http(): ReturnType<typeof request> {
    return request(this.app.getHttpServer());
  }

  /** Signs in a demo user; returns its token and user id. */
  async login(name: string): Promise<{ token: string; userId: string }> {
    const res = await this.http.post('/demo/login').send({ name }).expect(200);
    return { token: res.body.token as string, userId: res.body.user_id as string };
  }

  /** A connected socket.io client of the calls namespace. */
  async connect(token: string | null): Promise<TestClient> {
    const socket = io(`${this.url}/calls`, {
      transports: ['websocket'],
      auth: token ? { token } : {},
      reconnection: false,
      forceNew: true,
    });
    const client = new TestClient(socket);
    await client.connected();
    return client;
  }

  async close(): Promise<void> {
    await this.app.close();
    process.env = this.savedEnv;
  }
}
