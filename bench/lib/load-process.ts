import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { LoadCommands } from './load.child';

type Args<K extends keyof LoadCommands> = Parameters<LoadCommands[K]>[0];
type Result<K extends keyof LoadCommands> = Awaited<ReturnType<LoadCommands[K]>>;

/** The load generator child process ({@link ./load.child}), driven over IPC. */
export class LoadProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) waiter.reject(new Error(`load process: ${msg.error}`));
      else waiter.resolve(msg.result);
    });
    child.on('exit', (code) => {
      for (const w of this.pending.values()) w.reject(new Error(`load process exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks the load process (TypeScript through ts-node, like the benchmarks themselves). */
  static start(): LoadProcess {
    const child = fork(join(__dirname, 'load.child.ts'), [], {
      execArgv: ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register'],
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadProcess(child);
  }

  /** The child's PID (its CPU shows in the tables as the load generator's). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  call<K extends keyof LoadCommands>(cmd: K, args: Args<K>): Promise<Result<K>> {
    const id = this.nextId++;
    return new Promise<Result<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  /** Ends the child and waits for it. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}
