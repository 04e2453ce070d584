import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { CallsIoAdapter } from '@app/calls';
import { AppModule } from '../../src/app.module';

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

/** An event as the server sends it (Mattermost envelope). */
export interface Envelope {
  event: string;
  data: Record<string, unknown>;
  broadcast: Record<string, unknown>;
}

/** A socket.io client that records every event it receives. */
export class TestClient {
  readonly events: Envelope[] = [];
  connectionId = '';
  private waiters: { match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }[] = [];

  constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: Envelope) => {
      const event = { ...payload, event: name };
      if (name === 'hello') this.connectionId = String(payload.data.connection_id);
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve(event);
        return false;
      });
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect_error', reject);
      this.socket.once('hello', () => resolve());
    });
  }

  /** Sends an action and returns its acknowledgement. */
  send<T = Record<string, unknown>>(short: string, data?: unknown): Promise<T> {
    const name = `custom_com.mattermost.calls_${short}`;
    return (
      data === undefined
        ? this.socket.timeout(5000).emitWithAck(name)
        : this.socket.timeout(5000).emitWithAck(name, data)
    ) as Promise<T>;
  }

  /** Waits for an event (already received ones count) matching `predicate`. */
  waitFor(
    short: string,
    predicate: (e: Envelope) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Envelope> {
    const name = short === 'hello' ? short : `custom_com.mattermost.calls_${short}`;
    const match = (e: Envelope) => e.event === name && predicate(e);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${name}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Events of one name received so far. */
  received(short: string): Envelope[] {
    return this.events.filter((e) => e.event === `custom_com.mattermost.calls_${short}`);
  }

  close(): void {
    this.socket.disconnect();
  }
}
