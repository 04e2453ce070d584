import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { io, type Socket } from 'socket.io-client';

/**
 * An abusive client in its own process, so that its own CPU and memory do not count against the
 * server it attacks (the host app runs in the jest process). Two modes:
 *
 * - `flood <url> <token> <channel> <count>`: joins the channel's call, fires `count` session
 *   actions at once (as fast as the socket takes them), waits for every acknowledgement; prints a
 *   {@link FloodResult} line.
 * - `oversize <url> <token> <bytes> <sockets> <requests>`: every socket sends one `sdp` of `bytes`
 *   bytes, and `requests` REST calls carry a body of `bytes` bytes; prints an {@link OversizeResult}.
 */

/** What a flood saw. */
export interface FloodResult {
  sent: number;
  ok: number;
  rateLimited: number;
  otherErrors: Record<string, number>;
  noAck: number;
  seconds: number;
}

/** What oversized messages got. */
export interface OversizeResult {
  /** Per socket: `disconnect:<reason>` or `ack:<json>`. */
  sockets: string[];
  /** HTTP statuses of the oversized requests. */
  statuses: number[];
}

const ACTIONS = ['mute', 'unmute', 'raise_hand', 'unraise_hand', 'react', 'metric'] as const;
const PREFIX = 'custom_com.mattermost.calls_';

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(`${url}/calls`, {
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('hello', () => resolve(socket));
  });
}

async function flood(
  url: string,
  token: string,
  channel: string,
  count: number,
): Promise<FloodResult> {
  const socket = await connect(url, token);
  const joined = (await socket
    .timeout(10_000)
    .emitWithAck(`${PREFIX}join`, { channelID: channel })) as {
    ok: boolean;
  };
  if (!joined.ok) throw new Error(`flood join refused: ${JSON.stringify(joined)}`);
  const result: FloodResult = {
    sent: 0,
    ok: 0,
    rateLimited: 0,
    otherErrors: {},
    noAck: 0,
    seconds: 0,
  };
  const started = Date.now();
  process.stdout.write('flooding\n');
  const acks: Promise<void>[] = [];
  for (; result.sent < count; result.sent++) {
    const action = ACTIONS[result.sent % ACTIONS.length];
    const data =
      action === 'react'
        ? { data: JSON.stringify({ name: 'tada' }) }
        : action === 'metric'
          ? { metric_name: 'flood' }
          : undefined;
    const ack = (
      data
        ? socket.timeout(120_000).emitWithAck(`${PREFIX}${action}`, data)
        : socket.timeout(120_000).emitWithAck(`${PREFIX}${action}`)
    ) as Promise<{ ok: boolean; error?: { code: string } }>;
    acks.push(
      ack.then(
        (a) => {
          if (a.ok) result.ok++;
          else if (a.error?.code === 'rate_limited') result.rateLimited++;
          else {
            const code = a.error?.code ?? 'unknown';
            result.otherErrors[code] = (result.otherErrors[code] ?? 0) + 1;
          }
        },
        () => void result.noAck++,
      ),
    );
  }
  await Promise.all(acks);
  result.seconds = (Date.now() - started) / 1000;
  socket.disconnect();
  return result;
}

async function oversize(
  url: string,
  token: string,
  bytes: number,
  sockets: number,
  requests: number,
): Promise<OversizeResult> {
  const result: OversizeResult = { sockets: [], statuses: [] };
  const payload = Buffer.alloc(bytes, 0x61);
  result.sockets = await Promise.all(
    Array.from({ length: sockets }, async () => {
      const socket = await connect(url, token);
      const outcome = new Promise<string>((resolve) => {
        socket.once('disconnect', (reason) => resolve(`disconnect:${reason}`));
        socket
          .timeout(15_000)
          .emitWithAck(`${PREFIX}sdp`, { data: payload })
          .then((ack) => resolve(`ack:${JSON.stringify(ack)}`))
          .catch(() => undefined);
      });
      const r = await outcome;
      socket.disconnect();
      return r;
    }),
  );
  const { hostname, port } = new URL(url);
  for (let i = 0; i < requests; i++) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          method: 'POST',
          path: '/plugins/com.mattermost.calls/oversize-channel',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      // The server may answer (and close) before the whole body is written.
      req.on('error', (err: NodeJS.ErrnoException) =>
        err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve(-1) : reject(err),
      );
      req.end(`{"enabled":"${'a'.repeat(bytes)}"}`);
    });
    result.statuses.push(status);
  }
  return result;
}

async function main(): Promise<void> {
  const [mode, url, token, ...rest] = process.argv.slice(2);
  const result =
    mode === 'flood'
      ? await flood(url, token, rest[0], Number(rest[1]))
      : await oversize(url, token, Number(rest[0]), Number(rest[1]), Number(rest[2]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** A running hostile client process. */
export class HostileClientProcess {
  private readonly lines: string[] = [];
  private readonly waiters: { match: string; resolve: () => void }[] = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of this.waiters.filter((x) => line.includes(x.match))) w.resolve();
    });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  }

  /** Starts `test/support/hostile-client.ts <args>` with ts-node. */
  static start(args: string[]): HostileClientProcess {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'hostile-client.ts'), ...args],
      {
        cwd: join(__dirname, '../..'),
        env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new HostileClientProcess(child);
  }

  /** Waits for an output line containing `text`. */
  waitForLine(text: string, timeoutMs = 30_000): Promise<void> {
    if (this.lines.some((l) => l.includes(text))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${text}" from the hostile client`)),
        timeoutMs,
      );
      this.waiters.push({
        match: text,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Waits for it to exit and returns its last output line, parsed. */
  async result<T>(): Promise<T> {
    if (this.child.exitCode === null) await once(this.child, 'exit');
    return JSON.parse(this.lines[this.lines.length - 1]) as T;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
