import type { SessionConnection, SessionPlace } from '../calls/local-sessions';
import type { InstanceBus } from './instance-bus';
import { RelayMessage } from './instance-bus.messages';

/**
 * On the instance that holds a session's media: the session's connection when it is on another
 * instance (the client reconnected through it). Letting it go tells that instance, whose
 * connection then no longer serves the session.
 */
export class RemoteSessionConnection implements SessionConnection {
  private current: string | undefined;

  constructor(
    /** The instance the connection is on. */
    readonly instanceId: string,
    private readonly bus: InstanceBus,
  ) {}

  get sessionId(): string | undefined {
    return this.current;
  }

  attach(place: SessionPlace): void {
    this.current = place.sessionId;
  }

  detach(): void {
    const sessionId = this.current;
    this.current = undefined;
    if (!sessionId) return;
    void this.bus
      .request(this.instanceId, RelayMessage.detach, { sessionId })
      .catch(() => undefined);
  }
}
