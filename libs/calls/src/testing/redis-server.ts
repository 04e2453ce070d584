import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

/** Options of {@link TestRedisServer.start}. */
export interface TestRedisServerOptions {
  /**
   * Keep the data on disk (an append-only file in a temporary directory, fsynced at every write),
   * so that a restart, even after a SIGKILL, comes back with it. @default false (nothing on disk)
   */
  readonly persistent?: boolean;
}

/**
 * A throwaway `redis-server` for tests: its own process on a free loopback port, nothing kept on
 * disk unless asked (then in a temporary directory, removed by {@link stop}). Tests that kill or
 * restart Redis use one of these, never a Redis they did not start.
 */
export class TestRedisServer {
  private process: ChildProcess | null = null;
  private readonly dir: string | null;

  private constructor(
    readonly port: number,
    options: TestRedisServerOptions,
  ) {
    this.dir = options.persistent ? mkdtempSync(join(tmpdir(), 'calls-redis-')) : null;
  }

  /**
   * Starts a server on a free port (or the given one) and waits until it answers. Another process
   * may grab a free port first: then it tries the next free port (when none was given).
   */
  static async start(
    port?: number,
    options: TestRedisServerOptions = {},
  ): Promise<TestRedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new TestRedisServer(port ?? (await freePort()), options);
      try {
        await server.launch();
        return server;
      } catch (err) {
        server.removeDir();
        if (port !== undefined || attempt >= 5) throw err;
      }
    }
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.process !== null;
  }

  /** Kills the server with SIGKILL (no shutdown, data gone) and waits for it to exit. */
  async kill(): Promise<void> {
    await this.stopWith('SIGKILL');
  }

  /**
   * Starts the server again on the same port: empty, as after a crash without persistence, or
   * with its data when it is persistent (unless `empty`: then its files are deleted first).
   */
  async restart(options: { empty?: boolean } = {}): Promise<void> {
    if (this.process) await this.kill();
    if (options.empty && this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      this.recreateDir();
    }
    await this.launch();
  }

  /** Stops the server (and removes its data directory). */
  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
    this.removeDir();
  }

  private async launch(): Promise<void> {
    const persistence = this.dir
      ? ['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...persistence,
        '--protected-mode',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = null;
    });
    for (let i = 0; i < 200; i++) {
      // Only our own process counts: a server someone else started on this port does not.
      if ((await this.serverPid()) === child.pid) return;
      if (!this.process) throw new Error(`redis-server exited at start [port=${this.port}]`);
      await sleep(25);
    }
    throw new Error(`redis-server did not answer within 5 s [port=${this.port}]`);
  }

  private recreateDir(): void {
    if (this.dir) mkdirSync(this.dir, { recursive: true });
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.process = null;
  }

  /** The process id of the server answering on the port (INFO server), or null. */
  private serverPid(): Promise<number | null> {
    return new Promise((resolve) => {
      const socket = createConnection({ port: this.port, host: '127.0.0.1' });
      let reply = '';
      socket.setTimeout(500);
      socket.once('connect', () => socket.write('INFO server\r\n'));
      socket.on('data', (d) => {
        reply += d.toString();
        const match = /process_id:(\d+)/.exec(reply);
        if (match) {
          socket.destroy();
          resolve(Number(match[1]));
        }
      });
      socket.once('error', () => resolve(null));
      socket.once('close', () => resolve(null));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(null);
      });
    });
  }
}
