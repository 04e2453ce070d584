import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';
import type { WorkerPool } from '../workers/worker-pool';
import { RoomRouter } from './room-router';

/** How long a call waits for a replacement worker when none is running. */
const REPLACEMENT_WAIT_MS = 10_000;
/**
 * How long a call whose moving sessions would overfill its surviving routers waits for the dead
 * worker's replacement (usually up in a few hundred milliseconds), so that they spread over it.
 */
const SPREAD_WAIT_MS = 2_000;

/** What {@link RoomRouters} needs from the room. */
export interface RoomRoutersContext {
  readonly callId: string;
  readonly pool: WorkerPool;
  /**
   * Sessions a router takes before the call opens another router on another worker (0: one
   * router per call).
   */
  readonly maxSessionsPerRouter: number;
  /** A worker of one of the routers died (reported once per router). */
  readonly workerDied: (router: RoomRouter) => void;
  /** The router of the session that sends a producer, if that session is served here. */
  readonly senderRouter: (producer: ms.Producer) => RoomRouter | undefined;
}

/**
 * The routers of one call on this instance, so that a big call uses every worker (core): the
 * primary router holds every producer of the call (its own sessions', copies of the others', and
 * those imported from other instances), its voice activity and its pipes to other instances;
 * once the routers in use hold {@link RoomRoutersContext.maxSessionsPerRouter} sessions each,
 * the next session goes to a new router on a worker the call does not use yet (the least
 * loaded), and when every worker has one, to the router with the fewest sessions. A session
 * receives a producer of another router through a copy piped into its own
 * (`router.pipeToRouter`, made once per producer and router).
 */
export class RoomRouters {
  private readonly logger = new Logger(RoomRouters.name);
  private readonly extra: RoomRouter[] = [];
  /** Sessions placed on each router (joined or joining), by router id. */
  private readonly seats = new Map<string, number>();
  /** The router a producer lives on, by producer id (imported ones: the primary). */
  private readonly origins = new Map<string, RoomRouter>();
  /** Copies of producers in other routers, by `<producer id>/<router id>`. */
  private readonly copies = new Map<string, Promise<ms.Producer>>();
  /** A router being opened for the sessions that found every router full. */
  private opening: Promise<RoomRouter> | null = null;

  private constructor(
    private readonly ctx: RoomRoutersContext,
    private primaryRouter: RoomRouter,
  ) {
    this.watch(primaryRouter);
  }

  /** Opens the call's primary router on the least loaded worker. */
  static async create(ctx: RoomRoutersContext): Promise<RoomRouters> {
    return new RoomRouters(ctx, await RoomRouters.open(ctx));
  }

  /** The router that holds every producer of the call, its voice activity and pipes. */
  get primary(): RoomRouter {
    return this.primaryRouter;
  }

  /** Every router of the call, the primary first. */
  all(): RoomRouter[] {
    return [this.primaryRouter, ...this.extra];
  }

  /**
   * A router for a new session, its seat taken ({@link leave} gives it back): the primary while
   * it has room, then the others as described on the class.
   */
  async place(): Promise<RoomRouter> {
    const max = this.ctx.maxSessionsPerRouter;
    const open = () => this.all().filter((r) => !r.closed);
    let chosen = max === 0 ? this.primaryRouter : undefined;
    while (!chosen) {
      chosen = this.fewest(open().filter((r) => this.seated(r) < max));
      // Whoever waited for a new router looks again: a burst of sessions fills it up to the
      // limit and opens the next one, instead of all sitting on the one that was opening.
      if (!chosen && !(await this.openAnother())) {
        chosen = this.fewest(open()) ?? this.primaryRouter;
      }
    }
    this.seats.set(chosen.id, this.seated(chosen) + 1);
    return chosen;
  }

  /** Gives a session's seat back; an extra router nobody sits on is closed. */
  leave(router: RoomRouter): void {
    const seated = this.seated(router) - 1;
    if (seated > 0) {
      this.seats.set(router.id, seated);
      return;
    }
    this.seats.delete(router.id);
    const index = this.extra.indexOf(router);
    if (index < 0) return;
    this.extra.splice(index, 1);
    this.forgetRouter(router);
    router.close();
    this.logger.log(
      `router closed [callId=${this.ctx.callId}, routers=${this.extra.length + 1}, workerPid=${router.worker.worker.pid}]`,
    );
  }

  /** Notes where a producer of the call lives (imported producers live on the primary). */
  produced(producer: ms.Producer, on: RoomRouter): void {
    this.origins.set(producer.id, on);
    producer.observer.once('close', () => {
      if (this.origins.get(producer.id) === on) this.origins.delete(producer.id);
      for (const key of [...this.copies.keys()]) {
        if (key.startsWith(`${producer.id}/`)) this.copies.delete(key);
      }
    });
  }

  /**
   * The router a producer of the call lives on: where it was noted, else (a producer not started
   * yet) its sender's, else the primary (imported producers).
   */
  originOf(producer: ms.Producer): RoomRouter {
    return this.origins.get(producer.id) ?? this.ctx.senderRouter(producer) ?? this.primaryRouter;
  }

  /**
   * The producer as `target` has it: itself on its own router, else a copy piped in (made once;
   * waited for).
   * @throws when the pipe cannot be made (a router closed meanwhile)
   */
  async on(producer: ms.Producer, target: RoomRouter): Promise<ms.Producer> {
    const origin = this.originOf(producer);
    if (origin === target) return producer;
    const key = `${producer.id}/${target.id}`;
    let copy = this.copies.get(key);
    if (!copy) {
      copy = origin.router
        .pipeToRouter({ producerId: producer.id, router: target.router })
        .then(({ pipeProducer }) => {
          if (!pipeProducer) throw new Error(`no copy of producer ${producer.id} was made`);
          return pipeProducer;
        });
      this.copies.set(key, copy);
      copy.catch(() => {
        if (this.copies.get(key) === copy) this.copies.delete(key);
      });
    }
    return copy;
  }

  /**
   * After a worker death: forgets the routers that closed and, if the primary was one of them,
   * gives the call a new primary: the surviving router with the most sessions (they stay where
   * they are), else a new router. A call never has two routers on one worker (mediasoup cannot
   * pipe a producer between routers of one worker under its own id).
   * When the `moving` sessions would overfill the routers left, it first waits a little for the
   * dead worker's replacement, so that they spread over it instead of crowding the survivors.
   * @returns whether the primary was replaced
   * @throws when no worker is left for a new primary
   */
  async recover(moving: number): Promise<boolean> {
    // A router being opened for a joining session is one of the survivors once it is open.
    if (this.opening) await this.opening.catch(() => null);
    for (const dead of this.extra.filter((r) => r.closed)) {
      this.extra.splice(this.extra.indexOf(dead), 1);
      this.forgetRouter(dead);
    }
    const replaced = this.primaryRouter.closed;
    if (replaced) await this.replacePrimary();
    await this.roomFor(moving);
    return replaced;
  }

  /** Closes the extra routers, then the primary. */
  close(): void {
    for (const router of this.extra.splice(0)) router.close();
    this.primaryRouter.close();
    this.seats.clear();
    this.copies.clear();
    this.origins.clear();
  }

  /** A new primary for one that closed: the survivor with the most sessions, else a new router. */
  private async replacePrimary(): Promise<void> {
    this.forgetRouter(this.primaryRouter);
    const heir = this.extra.reduce<RoomRouter | undefined>(
      (best, r) => (best === undefined || this.seated(r) > this.seated(best) ? r : best),
      undefined,
    );
    if (heir) {
      this.extra.splice(this.extra.indexOf(heir), 1);
      this.primaryRouter = heir;
    } else {
      this.primaryRouter = await RoomRouters.open(this.ctx);
      this.watch(this.primaryRouter);
    }
    this.logger.log(
      `primary router replaced [callId=${this.ctx.callId}, routers=${this.extra.length + 1}, workerPid=${this.primaryRouter.worker.worker.pid}, kept=${heir !== undefined}]`,
    );
  }

  /** Waits for replacement workers when `sessions` more would overfill the open routers. */
  private async roomFor(sessions: number): Promise<void> {
    const max = this.ctx.maxSessionsPerRouter;
    if (max === 0 || sessions === 0) return;
    const free = this.all()
      .filter((r) => !r.closed)
      .reduce((n, r) => n + Math.max(0, max - this.seated(r)), 0);
    if (free < sessions) await this.ctx.pool.replacementsStarted(SPREAD_WAIT_MS);
  }

  private seated(router: RoomRouter): number {
    return this.seats.get(router.id) ?? 0;
  }

  private fewest(routers: readonly RoomRouter[]): RoomRouter | undefined {
    return routers.reduce<RoomRouter | undefined>(
      (best, r) => (best === undefined || this.seated(r) < this.seated(best) ? r : best),
      undefined,
    );
  }

  /** A new router on a worker the call does not use yet, or null when it uses every one. */
  private openAnother(): Promise<RoomRouter | null> {
    if (this.opening) return this.opening;
    const used = new Set(this.all().map((r) => r.worker.index));
    const worker = this.ctx.pool.workers
      .filter((w) => !used.has(w.index))
      .reduce<(typeof this.ctx.pool.workers)[number] | undefined>(
        (best, w) => (best === undefined || w.load < best.load ? w : best),
        undefined,
      );
    if (!worker) return Promise.resolve(null);
    const opening = RoomRouter.create(worker, this.ctx.callId)
      .then((router) => {
        this.extra.push(router);
        this.watch(router);
        this.logger.log(
          `router opened [callId=${this.ctx.callId}, routers=${this.extra.length + 1}, workerPid=${worker.worker.pid}]`,
        );
        return router;
      })
      .finally(() => (this.opening = null));
    this.opening = opening;
    return opening;
  }

  private watch(router: RoomRouter): void {
    router.router.on('workerclose', () => {
      // Deferred: mediasoup closes routers before it reports the worker's death to the pool.
      setImmediate(() => this.ctx.workerDied(router));
    });
  }

  /** Drops what the call knew of a closed router: seats, origins, copies into and out of it. */
  private forgetRouter(router: RoomRouter): void {
    this.seats.delete(router.id);
    for (const [id, origin] of [...this.origins]) {
      if (origin === router) this.origins.delete(id);
    }
    for (const key of [...this.copies.keys()]) {
      if (key.endsWith(`/${router.id}`)) this.copies.delete(key);
    }
  }

  private static async open(ctx: RoomRoutersContext): Promise<RoomRouter> {
    return RoomRouter.create(await ctx.pool.pickWhenAvailable(REPLACEMENT_WAIT_MS), ctx.callId);
  }
}
