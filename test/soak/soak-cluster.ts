import { join } from 'node:path';
import { TestSentinelGroup } from '@app/calls/testing';
import { HostProcess } from '../support/host-process';
import { TcpProxy } from '../support/tcp-proxy';
import { workerPidsOf } from './processes';

/** Settings of {@link SoakCluster.start}. */
export interface SoakClusterOptions {
  readonly instances: number;
  /** `RUSTCHAT_CALLS_STATE_BACKEND` of every instance. */
  readonly backend: 'redis' | 'auto';
  /** The sentinels' `down-after-milliseconds`: a Redis restart shorter than this is no failover. */
  readonly sentinelDownAfterMs: number;
  /** `RUSTCHAT_CALLS_INSTANCE_TTL_MS`. */
  readonly instanceTtlMs: number;
  /** Where each instance's output goes (`<dir>/<instance id>.log`). */
  readonly logDir: string;
}

/** One instance of the deployment, reached by clients through its own TCP proxy. */
export class SoakInstance {
  /** Null while the process is down (killed, not started again yet). */
  host: HostProcess | null = null;
  /** Whether its proxy refuses clients (a partition). */
  partitioned = false;

  constructor(
    readonly index: number,
    readonly id: string,
    /** The clients' way in (a load balancer's backend): the instance's port behind it may change. */
    readonly proxy: TcpProxy,
  ) {}

  /** Whether clients can reach it. */
  get reachable(): boolean {
    return !!this.host?.alive && !this.partitioned;
  }
}

/**
 * The soak's deployment: a Redis Sentinel group (primary, replica, three sentinels; persistent, so
 * a primary can come back with its data), and host-app processes following it through the
 * documented Sentinel settings, each behind a TCP proxy that clients connect through. An instance
 * can be SIGKILLed and started again with its id (the proxy then forwards to its new port), cut
 * off from its clients (the proxy drops their connections and refuses new ones), and its
 * mediasoup worker SIGKILLed.
 */
export class SoakCluster {
  private constructor(
    readonly redis: TestSentinelGroup,
    readonly instances: SoakInstance[],
    private readonly options: SoakClusterOptions,
  ) {}

  static async start(options: SoakClusterOptions): Promise<SoakCluster> {
    const redis = await TestSentinelGroup.start({
      downAfterMs: options.sentinelDownAfterMs,
      persistent: true,
    });
    const cluster = new SoakCluster(redis, [], options);
    try {
      for (let i = 0; i < options.instances; i++) {
        cluster.instances.push(new SoakInstance(i, `soak-${i + 1}`, await TcpProxy.start(1)));
      }
      await Promise.all(cluster.instances.map((inst) => cluster.startInstance(inst)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The instances clients can reach now. */
  reachable(): SoakInstance[] {
    return this.instances.filter((i) => i.reachable);
  }

  /** Starts the instance's process (again, with the same id) and points its proxy at it. */
  async startInstance(inst: SoakInstance): Promise<void> {
    const host = await HostProcess.start(inst.id, this.env(inst), {
      logFile: join(this.options.logDir, `${inst.id}.log`),
      fromBuild: true,
    });
    inst.host = host;
    inst.proxy.retarget(host.port);
  }

  /** SIGKILLs the instance's process. */
  async killInstance(inst: SoakInstance): Promise<void> {
    const host = inst.host;
    inst.host = null;
    await host?.stop('SIGKILL');
  }

  /** Cuts the instance off from its clients (their connections dropped, new ones refused). */
  partition(inst: SoakInstance): void {
    inst.partitioned = true;
    inst.proxy.cut();
  }

  heal(inst: SoakInstance): void {
    inst.partitioned = false;
    inst.proxy.restore();
  }

  /** The mediasoup workers of the instance's process now. */
  workerPids(inst: SoakInstance): number[] {
    return inst.host?.alive ? workerPidsOf(inst.host.pid) : [];
  }

  /** Stops every process and proxy it started (instances with SIGKILL). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.instances.map((i) => this.killInstance(i)));
    await Promise.allSettled(this.instances.map((i) => i.proxy.close()));
    await this.redis.stop();
  }

  private env(inst: SoakInstance): Record<string, string> {
    return {
      RUSTCHAT_CALLS_STATE_BACKEND: this.options.backend,
      // Host and port are not used with sentinels (README "Redis Sentinel").
      RUSTCHAT_REDIS_URL: 'redis://127.0.0.1:1',
      RUSTCHAT_REDIS_SENTINELS: this.redis.sentinelAddresses.join(','),
      RUSTCHAT_REDIS_SENTINEL_NAME: this.redis.name,
      RUSTCHAT_CALLS_INSTANCE_ID: inst.id,
      RUSTCHAT_CALLS_WORKERS: '1',
      RUSTCHAT_CALLS_LISTEN_IP: '127.0.0.1',
      RUSTCHAT_CALLS_PIPE_ADDRESS: '127.0.0.1',
      RUSTCHAT_CALLS_HEARTBEAT_MS: '500',
      RUSTCHAT_CALLS_INSTANCE_TTL_MS: String(this.options.instanceTtlMs),
      RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS: '100',
      RUSTCHAT_CALLS_WS_BURST: '10000',
      RUSTCHAT_CALLS_HTTP_BURST: '10000',
      DEMO_AUTH_SECRET: 'soak-secret',
    };
  }
}
