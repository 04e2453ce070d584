import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Namespace } from 'socket.io';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';

type Listener = (payload: unknown) => void;

/**
 * Messages between instances over the calls namespace's `serverSideEmit`, which the Redis streams
 * adapter (cluster/calls-io.adapter.ts) carries to every other instance: in order per sender, in
 * the same stream as the socket.io events, resumed from its last offset after a reader's Redis
 * blip, local-only while Redis is away. The LiveKit transport relays its deliveries through it.
 * With the memory backend, or an adapter without `serverSideEmit`, there are no other instances.
 */
@Injectable()
export class SocketIoInstanceRelay {
  private readonly logger = new Logger(SocketIoInstanceRelay.name);
  private server: Namespace | null = null;
  private readonly listeners = new Map<string, Listener[]>();
  private supported = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: Pick<ResolvedCallsOptions, 'stateBackend'>,
  ) {}

  /** Whether other instances are reachable (a clustering adapter on a shared backend). */
  get clustered(): boolean {
    return this.supported && this.options.stateBackend !== 'memory';
  }

  /** Called by the gateway once its namespace exists. */
  attach(server: Namespace): void {
    this.server = server;
    this.supported = overridesServerSideEmit(server.adapter);
    for (const [topic, listeners] of this.listeners) {
      for (const listener of listeners) server.on(topic, listener);
    }
  }

  emitToOthers(topic: string, payload: unknown): void {
    if (!this.server || !this.clustered) return;
    try {
      this.server.serverSideEmit(topic, payload);
    } catch (err) {
      this.logger.debug(`relay to other instances failed: ${(err as Error).message}`);
    }
  }

  onFromOthers(topic: string, listener: Listener): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
    this.server?.on(topic, listener);
  }
}

/**
 * Whether an adapter implements `serverSideEmit` (socket.io's in-memory adapter only warns): its
 * method is not the one of the root class of its prototype chain.
 */
function overridesServerSideEmit(adapter: object): boolean {
  let proto: object | null = Object.getPrototypeOf(adapter) as object | null;
  let root: { serverSideEmit?: unknown } | null = null;
  while (proto && proto !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(proto, 'serverSideEmit')) {
      root = proto;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return (
    root !== null &&
    (adapter as { serverSideEmit?: unknown }).serverSideEmit !== root.serverSideEmit
  );
}
