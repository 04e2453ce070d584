import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { SfuUnavailableError } from '../../errors/sfu-unavailable.error';
import { type SfuNetworkSettings, webRtcServerListenInfos } from './sfu-network';

/** One running mediasoup worker of the pool. */
export interface PooledWorker {
  /** Position in the pool; a replacement takes its dead predecessor's index (and ports). */
  readonly index: number;
  readonly worker: ms.Worker;
  /** The worker's single-port server when the pool runs in single-port mode. */
  readonly webRtcServer?: ms.WebRtcServer;
  /** Routers plus transports on the worker, the measure of "least loaded". */
  readonly load: number;
}

/** Settings of the {@link WorkerPool}. */
export interface WorkerPoolSettings {
  readonly count: number;
  readonly network: SfuNetworkSettings;
  /** Attempts to start a replacement for a dead worker before its slot stays empty. */
  readonly replaceAttempts?: number;
}

class Entry implements PooledWorker {
  load = 0;
  constructor(
    readonly index: number,
    readonly worker: ms.Worker,
    readonly webRtcServer?: ms.WebRtcServer,
  ) {}
}

/**
 * The mediasoup workers of this process, one per core by default. Sessions go to the least
 * loaded worker; a worker that dies is logged and replaced (same index, same ports), while its
 * routers' owners move their calls elsewhere (they hear `workerclose` on their routers).
 */
export class WorkerPool {
  private readonly logger = new Logger(WorkerPool.name);
  private readonly entries: (Entry | null)[] = [];
  private readonly replacing = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly settings: WorkerPoolSettings) {}

  /** Starts every worker; if one fails, the others are closed and the error is thrown. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(
      Array.from({ length: this.settings.count }, (_, i) => this.spawn(i)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
  }

  /** Workers that are running now. */
  get workers(): readonly PooledWorker[] {
    return this.entries.filter((e): e is Entry => e !== null && !e.worker.closed);
  }

  /** The running worker with the least load. */
  pick(): PooledWorker {
    const live = this.workers;
    if (live.length === 0) {
      throw new SfuUnavailableError(this.closing ? 'shutting down' : 'no media worker is running');
    }
    return live.reduce((best, e) => (e.load < best.load ? e : best));
  }

  /**
   * The least loaded worker, waiting up to `timeoutMs` for a replacement when none is running
   * (all workers died at once).
   */
  async pickWhenAvailable(timeoutMs: number): Promise<PooledWorker> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.workers.length > 0 || this.closing || Date.now() >= deadline) return this.pick();
      await sleep(25);
    }
  }

  /**
   * Waits until the replacements of dead workers have started (or given up), at most
   * `timeoutMs`; at once when none is being started.
   */
  async replacementsStarted(timeoutMs: number): Promise<void> {
    if (this.replacing.size === 0) return;
    await Promise.race([
      Promise.allSettled([...this.replacing]),
      sleep(timeoutMs, undefined, { ref: false }),
    ]);
  }

  /** Closes every worker and waits until their processes have exited. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.replacing]);
    const entries = this.entries.filter((e): e is Entry => e !== null);
    this.entries.length = 0;
    await Promise.all(
      entries.map(async ({ worker }) => {
        const exited = worker.subprocessClosed
          ? Promise.resolve()
          : once(worker, 'subprocessclose');
        worker.close();
        await exited;
      }),
    );
  }

  private async spawn(index: number): Promise<Entry> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    let webRtcServer: ms.WebRtcServer | undefined;
    try {
      if (this.settings.network.udpPort > 0) {
        webRtcServer = await worker.createWebRtcServer({
          listenInfos: webRtcServerListenInfos(this.settings.network, index),
        });
      }
    } catch (err) {
      worker.close();
      throw err;
    }
    const entry = new Entry(index, worker, webRtcServer);
    worker.observer.on('newrouter', (router) => {
      entry.load++;
      router.observer.once('close', () => entry.load--);
      router.observer.on('newtransport', (transport) => {
        entry.load++;
        transport.observer.once('close', () => entry.load--);
      });
    });
    worker.on('died', (error) => this.onDied(entry, error));
    this.entries[index] = entry;
    this.logger.log(`worker started [index=${index}, pid=${worker.pid}]`);
    return entry;
  }

  private onDied(entry: Entry, error: Error): void {
    this.logger.error(
      `worker died [index=${entry.index}, pid=${entry.worker.pid}]: ${error.message}; replacing it`,
    );
    if (this.entries[entry.index] === entry) this.entries[entry.index] = null;
    if (this.closing) return;
    const replacement = this.replace(entry.index).finally(() => this.replacing.delete(replacement));
    this.replacing.add(replacement);
  }

  private async replace(index: number): Promise<void> {
    const attempts = this.settings.replaceAttempts ?? 5;
    for (let attempt = 1; attempt <= attempts && !this.closing; attempt++) {
      try {
        const entry = await this.spawn(index);
        if (this.closing) entry.worker.close();
        return;
      } catch (err) {
        this.logger.error(
          `worker replacement failed [index=${index}, attempt=${attempt}]: ${(err as Error).message}`,
        );
        await sleep(250 * 2 ** (attempt - 1));
      }
    }
  }
}
