import type { types as ms } from 'mediasoup';
import { DataChannelRelay } from './data-channel.relay';
import { ROUTER_MEDIA_CODECS } from '../workers/media-codecs';
import type { PooledWorker } from '../workers/worker-pool';

/**
 * One of a call's routers on this instance: a mediasoup router on one worker, with the data
 * channel relay of the sessions whose transports it holds. A call starts with one; a big call
 * gets more, on other workers ({@link RoomRouters}).
 */
export class RoomRouter {
  private constructor(
    readonly router: ms.Router,
    readonly worker: PooledWorker,
    readonly relay: DataChannelRelay,
  ) {}

  /** Creates a router (and its relay) on `worker`. */
  static async create(worker: PooledWorker, callId: string): Promise<RoomRouter> {
    const router = await worker.worker.createRouter({
      mediaCodecs: ROUTER_MEDIA_CODECS,
      appData: { callId },
    });
    try {
      return new RoomRouter(router, worker, await DataChannelRelay.create(router));
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** The router's id. */
  get id(): string {
    return this.router.id;
  }

  /** Whether the router is closed (closed by its room, or its worker died). */
  get closed(): boolean {
    return this.router.closed;
  }

  /** Closes the relay, then the router (children first). */
  close(): void {
    this.relay.close();
    if (!this.router.closed) this.router.close();
  }
}
