import { setTimeout as sleep } from 'node:timers/promises';
import type { Rng } from './fuzz';
import type { TestClient } from './host-app';

/** One acknowledged client operation of a {@link StateLoad}. */
export interface LoadOp {
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly client: number;
  readonly action: string;
  readonly ok: boolean;
  /** Error code (when refused), or `no-ack`. */
  readonly code?: string;
  readonly message?: string;
}

type Ack = { ok: boolean; error?: { code: string; message: string } };

/**
 * Signaling-only call churn: every client keeps joining one of `channels`, muting, unmuting,
 * raising and lowering its hand, and leaving, recording every acknowledgement. A refused step
 * ends the cycle with a `leave` (so the client can start over). `stop()` makes each client finish
 * its cycle, then join a channel one last time and stay.
 */
export class StateLoad {
  readonly ops: LoadOp[] = [];
  private stopping = false;
  private readonly started = Date.now();
  private loops: Promise<void>[] = [];
  /** channel → session ids of the clients that stayed in it. */
  readonly final = new Map<string, string[]>();

  constructor(
    private readonly clients: readonly TestClient[],
    private readonly channels: readonly string[],
    private readonly rng: Rng,
  ) {}

  /** Milliseconds since the load started. */
  get elapsed(): number {
    return Date.now() - this.started;
  }

  start(): void {
    this.loops = this.clients.map((c, i) => this.loop(c, i));
  }

  /** Stops the churn; resolves once every client sits in its final call. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async act(
    client: TestClient,
    i: number,
    action: string,
    data?: unknown,
  ): Promise<boolean> {
    let ack: Ack;
    try {
      ack = await client.send<Ack>(action, data);
    } catch {
      this.ops.push({ at: this.elapsed, client: i, action, ok: false, code: 'no-ack' });
      return false;
    }
    this.ops.push({
      at: this.elapsed,
      client: i,
      action,
      ok: ack.ok,
      code: ack.error?.code,
      message: ack.error?.message,
    });
    return ack.ok;
  }

  private async loop(client: TestClient, i: number): Promise<void> {
    while (!this.stopping) {
      const channel = this.rng.pick(this.channels);
      if (await this.act(client, i, 'join', { channelID: channel })) {
        for (let n = 1 + this.rng.int(3); n > 0; n--) {
          await sleep(20 + this.rng.int(60));
          const [on, off] = this.rng.pick([
            ['unmute', 'mute'],
            ['raise_hand', 'unraise_hand'],
          ]);
          if (!(await this.act(client, i, on)) || !(await this.act(client, i, off))) break;
        }
      }
      await this.act(client, i, 'leave');
      await sleep(20 + this.rng.int(60));
    }
    const channel = this.channels[i % this.channels.length];
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await this.act(client, i, 'join', { channelID: channel })) {
        this.final.set(channel, [...(this.final.get(channel) ?? []), client.connectionId]);
        return;
      }
      await this.act(client, i, 'leave');
      await sleep(100);
    }
  }
}
