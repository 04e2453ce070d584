import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

/**
 * A throwaway `redis-server` for tests: its own process on a free loopback port, nothing kept on
 * disk. Tests that kill or restart Redis use one of these, never a Redis they did not start.
 */
export class TestRedisServer {
  private process: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port (or the given one) and waits until it answers PING. */
  static async start(port?: number): Promise<TestRedisServer> {
    const server = new TestRedisServer(port ?? (await freePort()));
    await server.launch();
    return server;
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

  /** Starts the server again on the same port (empty, as after a crash without persistence). */
  async restart(): Promise<void> {
    if (this.process) await this.kill();
    await this.launch();
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await this.stopWith('SIGTERM');
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
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
      if (await this.ping()) return;
      if (!this.process) throw new Error(`redis-server exited at start [port=${this.port}]`);
      await sleep(25);
    }
    throw new Error(`redis-server did not answer within 5 s [port=${this.port}]`);
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.process = null;
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ port: this.port, host: '127.0.0.1' });
      socket.setTimeout(500);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }
}
