import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CallMembershipService } from '../calls/call-membership.service';
import { type LocalSession, LocalSessions } from '../calls/local-sessions';
import { SessionActions } from '../calls/session-actions';
import { NotInCallError } from '../errors/not-in-call.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { InstanceBus } from './instance-bus';
import { RelayMessage } from './instance-bus.messages';
import { RemoteSessionConnection } from './remote-session.connection';

/**
 * The session relay on the instance that holds a session's media: a connection on another
 * instance takes the session over (`session.reconnect`: the grace timer stops, the previous
 * connection is let go), its client's actions are performed here (`session.action`), and its loss
 * starts the grace period (`session.connection-lost`). Only the instance whose connection serves
 * the session may act for it.
 */
@Injectable()
export class SessionRelayHandlers implements OnModuleInit {
  private readonly logger = new Logger(SessionRelayHandlers.name);

  constructor(
    private readonly bus: InstanceBus,
    private readonly sessions: LocalSessions,
    private readonly membership: CallMembershipService,
    private readonly actions: SessionActions,
  ) {}

  onModuleInit(): void {
    if (!this.bus.enabled) return;
    this.bus.handle(RelayMessage.reconnect, ({ sessionId, userId, channelId }, from) => {
      const local = this.sessions.get(sessionId);
      if (!local || local.userId !== userId || local.channelId !== channelId) {
        return Promise.reject(new SessionNotFoundError(local?.callId ?? '-', sessionId));
      }
      this.membership.takeOver(
        local.callId,
        sessionId,
        new RemoteSessionConnection(from, this.bus),
      );
      this.logger.log(
        `session served through another instance [callId=${local.callId}, sessionId=${sessionId}, connectionOn=${from}]`,
      );
      return Promise.resolve();
    });
    this.bus.handle(RelayMessage.action, ({ sessionId, action }, from) => {
      const { callId, channelId, userId } = this.servedThrough(sessionId, from);
      return this.actions.performHere({ sessionId, callId, channelId, userId }, action);
    });
    this.bus.handle(RelayMessage.connectionLost, ({ sessionId }, from) => {
      const connection = this.sessions.get(sessionId)?.connection;
      if (connection instanceof RemoteSessionConnection && connection.instanceId === from) {
        this.membership.connectionLost(connection);
      }
      return Promise.resolve();
    });
  }

  /** The local session a connection on `from` serves. @throws NotInCallError */
  private servedThrough(sessionId: string, from: string): LocalSession {
    const local = this.sessions.get(sessionId);
    const connection = local?.connection;
    if (
      !local ||
      !(connection instanceof RemoteSessionConnection) ||
      connection.instanceId !== from
    ) {
      throw new NotInCallError();
    }
    return local;
  }
}
