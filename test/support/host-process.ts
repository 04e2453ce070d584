import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import request from 'supertest';
import { freePort } from '@app/calls/testing';
import { TestClient } from './test-client';

const ROOT = join(__dirname, '../..');

/**
 * The host app as a separate process (one instance of a deployment), started from the sources
 * with ts-node, listening on a free loopback port.
 */
export class HostProcess {
  private exited: Promise<unknown> | null = null;
  readonly output: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    log: WriteStream | null,
  ) {
    this.exited = once(child, 'exit');
    if (log) void this.exited.finally(() => log.end());
    const keep = (d: Buffer) => {
      log?.write(d);
      this.output.push(...d.toString().split('\n').filter(Boolean));
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts an instance and waits until it is healthy.
   * @param options.logFile also append everything it prints to this file
   * @param options.fromBuild run the build (`node dist/src/main.js`, as `npm start` does; it
   *   starts in a fraction of the time) instead of the sources through ts-node
   */
  static async start(
    name: string,
    env: Record<string, string>,
    options: { logFile?: string; fromBuild?: boolean } = {},
  ): Promise<HostProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      options.fromBuild
        ? ['dist/src/main.js']
        : ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'src/main.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          PORT: String(port),
          HOST: '127.0.0.1',
          TS_NODE_PROJECT: 'tsconfig.json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
    const host = new HostProcess(name, port, child, log);
    try {
      await host.waitHealthy();
    } catch (err) {
      await host.stop('SIGKILL'); // not left running behind the caller's back
      throw err;
    }
    return host;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get http(): ReturnType<typeof request> {
    return request(this.url);
  }

  async login(name: string): Promise<{ token: string; userId: string }> {
    const res = await this.http.post('/demo/login').send({ name }).expect(200);
    return { token: res.body.token as string, userId: res.body.user_id as string };
  }

  async connect(token: string): Promise<TestClient> {
    const socket = io(`${this.url}/calls`, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
    });
    const client = new TestClient(socket);
    await client.connected();
    return client;
  }

  /** Session ids of the channel's call as this instance reports it over REST, sorted. */
  async sessionIds(channelId: string): Promise<string[]> {
    const { token } = await this.login('Observer');
    const res = await this.http
      .get(`/plugins/com.mattermost.calls/${channelId}`)
      .set('Authorization', `Bearer ${token}`);
    const call = res.body.call as { sessions: { session_id: string }[] } | undefined;
    return (call?.sessions ?? []).map((s) => s.session_id).sort();
  }

  /** Sends a signal and waits for the process to exit (bounded). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited at start:\n${this.output.join('\n')}`);
      const ok = await request(this.url)
        .get('/health')
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      await sleep(200);
    }
    throw new Error(`${this.name} not healthy within 60 s:\n${this.output.slice(-30).join('\n')}`);
  }
}
