import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SessionConnection, SessionPlace } from '../calls/local-sessions';
import type { ActingSession } from '../calls/participant-actions.service';
import type { SessionAction, SessionRelay } from '../calls/session-relay.interface';
import { NotInCallError } from '../errors/not-in-call.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { InstanceBus } from './instance-bus';
import { RelayMessage, SessionMessage } from './instance-bus.messages';

/** A session served through a connection here, for the instance that holds its media. */
interface RemoteSession {
  readonly instanceId: string;
  readonly connection: SessionConnection;
}

/**
 * The {@link SessionRelay} over the instance bus, on the instance of the connection: takes a
 * session over from the instance that holds it (`session.reconnect`), relays the client's actions
 * there (`session.action`), its leave (`session.remove`) and the connection's loss
 * (`session.connection-lost`), and lets the connection go when that instance says so
 * (`session.detach`: the session left, or another connection took it over). What that instance
 * sends the session reaches the connection through the delivery, which spans instances.
 */
@Injectable()
export class BusSessionRelay implements SessionRelay, OnModuleInit {
  private readonly logger = new Logger(BusSessionRelay.name);
  private readonly remote = new Map<string, RemoteSession>();

  constructor(private readonly bus: InstanceBus) {}

  onModuleInit(): void {
    if (!this.bus.enabled) return;
    this.bus.handle(RelayMessage.detach, ({ sessionId }, from) => {
      const remote = this.remote.get(sessionId);
      if (remote?.instanceId === from) {
        this.remote.delete(sessionId);
        remote.connection.detach();
      }
      return Promise.resolve();
    });
  }

  isRemote(sessionId: string): boolean {
    return this.remote.has(sessionId);
  }

  async reconnect(
    instanceId: string,
    place: SessionPlace & { readonly userId: string },
    connection: SessionConnection,
  ): Promise<void> {
    const { sessionId, userId, channelId, callId } = place;
    try {
      await this.bus.request(instanceId, RelayMessage.reconnect, { sessionId, userId, channelId });
    } catch (err) {
      this.logger.warn(
        `the instance of a session did not take its reconnect [sessionId=${sessionId}, instanceId=${instanceId}]: ${(err as Error).message}`,
      );
      throw new SessionNotFoundError(callId, sessionId);
    }
    const before = this.remote.get(sessionId);
    if (before && before.connection !== connection) before.connection.detach();
    connection.attach(place);
    this.remote.set(sessionId, { instanceId, connection });
  }

  async perform(session: ActingSession, action: SessionAction): Promise<void> {
    const remote = this.remote.get(session.sessionId);
    if (!remote) throw new NotInCallError();
    await this.bus.request(remote.instanceId, RelayMessage.action, {
      sessionId: session.sessionId,
      action,
    });
  }

  async leave(sessionId: string): Promise<void> {
    const remote = this.remote.get(sessionId);
    if (!remote) return;
    this.remote.delete(sessionId);
    await this.bus.request(remote.instanceId, SessionMessage.remove, { sessionId, reason: 'left' });
  }

  connectionLost(sessionId: string, connection: SessionConnection): void {
    const remote = this.remote.get(sessionId);
    if (!remote || remote.connection !== connection) return;
    this.remote.delete(sessionId);
    this.bus
      .request(remote.instanceId, RelayMessage.connectionLost, { sessionId })
      .catch((err: Error) =>
        this.logger.warn(
          `could not tell the instance of a session that its connection closed [sessionId=${sessionId}]: ${err.message}`,
        ),
      );
  }
}
