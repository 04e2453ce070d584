import { setTimeout as sleep } from 'node:timers/promises';
import type { Rng } from '../support/fuzz';
import type { SoakCluster, SoakInstance } from './soak-cluster';
import type { SoakParticipant } from './soak-participant';

/** The faults the soak injects. */
export const FAULT_KINDS = [
  'redis-restart-empty',
  'redis-restart-data',
  'sentinel-failover',
  'instance-kill',
  'partition',
  'worker-kill',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults of the state store: Redis lost or replaced under running calls. */
export const STORE_FAULTS: ReadonlySet<FaultKind> = new Set([
  'redis-restart-empty',
  'redis-restart-data',
  'sentinel-failover',
]);

/** What a fault needs from the soak. */
export interface FaultWorld {
  readonly cluster: SoakCluster;
  readonly participants: readonly SoakParticipant[];
  readonly rng: Rng;
  /** Makes `p` join again (its media died) and waits until it hears and is heard (bounded). */
  rejoin(p: SoakParticipant, cause: 'killed' | 'lost'): Promise<void>;
  /** Milliseconds until `p` hears and is heard by its whole call, or null (bounded). */
  twoWayAudioMs(p: SoakParticipant): Promise<number | null>;
}

/** What an injected fault did. */
export interface FaultOutcome {
  readonly kind: FaultKind;
  /** What was hit and how, for the report. */
  readonly detail: string;
  /** Participants whose media died with an instance: left out of the survivors' figures. */
  readonly casualties: ReadonlySet<string>;
  /** Participants whose media was on the instance whose worker died. */
  readonly touched: ReadonlySet<string>;
  /** Per touched participant, ms from the worker's death until it heard and was heard again. */
  readonly recoveries: ReadonlyMap<string, number | null>;
  /** Mediasoup worker pids seen while injecting (to check later that none was left running). */
  readonly workerPids: readonly number[];
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Injects one fault and carries out what the deployment's operators and clients do about it
 * (restart what was killed, heal the partition, rejoin the participants whose media died); returns
 * when that is done.
 */
export async function injectFault(kind: FaultKind, world: FaultWorld): Promise<FaultOutcome> {
  const base = {
    kind,
    casualties: new Set<string>(),
    touched: new Set<string>(),
    recoveries: new Map(),
    workerPids: [],
  };
  const { cluster, rng } = world;
  switch (kind) {
    case 'redis-restart-empty':
    case 'redis-restart-data': {
      const empty = kind === 'redis-restart-empty';
      const downMs = 500 + rng.int(2500);
      const port = await cluster.redis.restartPrimary({ empty, downMs });
      const after = await cluster.redis.primaryPort();
      const failedOver = after !== port ? `, sentinels failed over to :${after}` : '';
      return {
        ...base,
        detail: `primary :${port} down ${s(downMs)}, back ${empty ? 'empty' : 'with its data'}${failedOver}`,
      };
    }
    case 'sentinel-failover': {
      const killedAt = Date.now();
      const old = await cluster.redis.killPrimary();
      const next = await cluster.redis.waitForFailover(old, 60_000);
      const tookMs = Date.now() - killedAt;
      await cluster.redis.restartStopped();
      return { ...base, detail: `primary :${old} killed, :${next} promoted after ${s(tookMs)}` };
    }
    case 'instance-kill': {
      const inst = pickServing(world, 'media');
      const victims = world.participants.filter((p) => p.media === inst);
      const workerPids = cluster.workerPids(inst);
      await cluster.killInstance(inst);
      const killedAt = Date.now();
      // Its clients rejoin through the others (a load balancer); the operator restarts it.
      const [restarted] = await Promise.all([
        cluster.startInstance(inst).then(() => Date.now() - killedAt),
        ...victims.map((p) => world.rejoin(p, 'killed')),
      ]);
      return {
        ...base,
        casualties: new Set(victims.map((p) => p.name)),
        workerPids,
        detail: `${inst.id} (${victims.length} media sessions) SIGKILLed, up again with its id after ${s(restarted)}`,
      };
    }
    case 'partition': {
      const inst = pickServing(world, 'signaling');
      const sockets = world.participants.filter((p) => p.signaling === inst).length;
      const cutMs = 5000 + rng.int(10_000);
      cluster.partition(inst);
      await sleep(cutMs);
      cluster.heal(inst);
      return {
        ...base,
        detail: `${inst.id} cut off from its clients for ${s(cutMs)} (${sockets} sockets dropped)`,
      };
    }
    case 'worker-kill': {
      const inst = pickServing(world, 'media');
      const touched = world.participants.filter((p) => p.media === inst && p.isUp);
      const [pid] = cluster.workerPids(inst);
      if (pid === undefined) throw new Error(`${inst.id} has no mediasoup worker process`);
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      const recoveries = new Map<string, number | null>();
      await Promise.all(
        touched.map(async (p) => {
          const ms = await world.twoWayAudioMs(p);
          recoveries.set(p.name, ms === null ? null : Date.now() - killedAt);
        }),
      );
      return {
        ...base,
        touched: new Set(touched.map((p) => p.name)),
        recoveries,
        workerPids: [pid, ...cluster.workerPids(inst)],
        detail: `worker ${pid} of ${inst.id} (${touched.length} media sessions) SIGKILLed`,
      };
    }
  }
}

/**
 * A random instance among those that serve participants (`media`) or carry their sockets
 * (`signaling`), so that the fault hits someone; any instance when none does.
 */
function pickServing(world: FaultWorld, by: 'media' | 'signaling'): SoakInstance {
  const serving = world.cluster.instances.filter((inst) =>
    world.participants.some((p) => p[by] === inst),
  );
  return world.rng.pick(serving.length > 0 ? serving : world.cluster.instances);
}
