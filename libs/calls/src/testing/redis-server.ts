import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Start as a replica of the server on this loopback port (`--replicaof`). */
  readonly replicaOf?: number;
  /**
   * Start a Redis Sentinel (`redis-server <config> --sentinel`, no other binary needed) that
   * monitors the primary on this loopback port under `name`.
   */
  readonly sentinel?: {
    readonly name: string;
    readonly primaryPort: number;
    readonly quorum: number;
    /** `down-after-milliseconds`: how long the primary may be silent before it is down. */
    readonly downAfterMs: number;
  };
}

/**
 * A throwaway `redis-server` for tests: its own process on a free loopback port, nothing kept on
 * disk unless asked (then in a temporary directory, removed by {@link stop}). Tests that kill or
 * restart Redis use one of these, never a Redis they did not start.
 */
export class TestRedisServer {
  private process: ChildProcess | null = null;
  private readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly options: TestRedisServerOptions,
  ) {
    // Every server works in a directory of its own (a replica writes the RDB of its sync there,
    // which would otherwise land in the test's working directory, i.e. the repository).
    this.dir = mkdtempSync(join(tmpdir(), 'calls-redis-'));
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
   * Freezes the server (SIGSTOP) for `ms`, then lets it go on (SIGCONT): a stall, as on an
   * overloaded or swapping host. Connections stay open; what clients sent meanwhile is answered
   * late, after the stall.
   */
  async stall(ms: number): Promise<void> {
    const child = this.process;
    if (!child) throw new Error(`redis-server is not running [port=${this.port}]`);
    child.kill('SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      child.kill('SIGCONT');
    }
  }

  /**
   * Starts the server again on the same port: empty, as after a crash without persistence, or
   * with its data when it is persistent (unless `empty`: then its files are deleted first).
   */
  async restart(options: { empty?: boolean } = {}): Promise<void> {
    if (this.process) await this.kill();
    if (options.empty) {
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
    const child = spawn('redis-server', this.arguments(), { stdio: 'ignore' });
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

  /** The command line of this server (or sentinel). */
  private arguments(): string[] {
    const { sentinel, replicaOf } = this.options;
    if (sentinel) {
      // A sentinel rewrites its configuration file: one of its own, in its directory.
      const config = join(this.dir, 'sentinel.conf');
      writeFileSync(
        config,
        [
          `port ${this.port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${sentinel.name} 127.0.0.1 ${sentinel.primaryPort} ${sentinel.quorum}`,
          `sentinel down-after-milliseconds ${sentinel.name} ${sentinel.downAfterMs}`,
          `sentinel failover-timeout ${sentinel.name} ${Math.max(3000, sentinel.downAfterMs * 3)}`,
          `sentinel parallel-syncs ${sentinel.name} 1`,
          '',
        ].join('\n'),
      );
      return [config, '--sentinel'];
    }
    const persistence = this.options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    return [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      this.dir,
      ...persistence,
      ...(replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
      '--protected-mode',
      'yes',
    ];
  }

  private recreateDir(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  private removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
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
