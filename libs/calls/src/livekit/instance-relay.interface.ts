import { Inject } from '@nestjs/common';

/**
 * Messages to every other instance of the deployment, in order per sender (the socket.io
 * namespace's `serverSideEmit` over the Redis streams adapter implements it, gateway/). A message
 * sent while the others are unreachable is lost; nothing is queued.
 */
export interface InstanceRelay {
  /** Whether other instances are reachable at all (redis/auto backends). */
  readonly clustered: boolean;
  /** Sends a JSON-able payload under a topic to every other instance. */
  emitToOthers(topic: string, payload: unknown): void;
  /** Listens for a topic's payloads from the other instances (untrusted shape: parse them). */
  onFromOthers(topic: string, listener: (payload: unknown) => void): void;
}

/** Injection token of {@link InstanceRelay}. */
export const InstanceRelay = Symbol('InstanceRelay');

/** Injects the {@link InstanceRelay}. */
export const InjectInstanceRelay = (): ParameterDecorator => Inject(InstanceRelay);
