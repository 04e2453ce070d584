import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { AlreadyInCallError } from '../errors/already-in-call.error';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { DrainingError } from '../errors/draining.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import {
  InjectMediaPlane,
  type MediaPlane,
  type MediaSessionOptions,
} from '../media/media-plane.interface';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import type { CallState } from '../state/call-state.types';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import { CallAccessPolicy } from './call-access.policy';
import { CallDelivery, InjectCallDelivery } from './call-delivery.interface';
import { DrainState } from './drain-state';
import { type LocalSession, LocalSessions, type SessionConnection } from './local-sessions';
import { InjectSessionRelay, SessionRelay } from './session-relay.interface';

/** A failed state removal is retried every second for five minutes. */
const REMOVAL_RETRY_MS = 1000;
const REMOVAL_RETRIES = 300;

/** The options this service reads. */
export type MembershipOptions = Pick<
  ResolvedCallsOptions,
  'instanceId' | 'maxCallParticipants' | 'reconnectGraceMs'
>;

/** What `join` needs. */
export interface JoinRequest {
  readonly userId: string;
  /** The new session's id (Mattermost: the connection id the client got in `hello`). */
  readonly sessionId: string;
  readonly channelId: string;
  readonly title?: string;
  readonly threadId?: string;
  /** The connection that will serve the session. */
  readonly connection: SessionConnection;
  /**
   * How the session's media opens, beyond joining muted (a protocol whose client has two
   * connections opens this one as its publisher, with its data channels).
   * @default a Mattermost session: `{ muted: true }`
   */
  readonly media?: MediaSessionOptions;
}

/** What `reconnect` needs. */
export interface ReconnectRequest {
  readonly userId: string;
  readonly channelId: string;
  /** The session's id (the connection id at its join). */
  readonly originalConnId: string;
  /** The connection id before this reconnect, when it differs. */
  readonly prevConnId?: string;
  /** The new connection that takes the session over. */
  readonly connection: SessionConnection;
}

/**
 * Joining, leaving and reconnecting: the session lifecycle, with Mattermost's rules (the first
 * joiner is host; the last leave ends the call without `call-ended`; a session whose connection
 * vanished keeps its place for the reconnect grace period). Knows no transport: a session is
 * reached through {@link CallDelivery}, its connection is a {@link SessionConnection}.
 */
@Injectable()
export class CallMembershipService implements OnApplicationShutdown {
  private readonly logger = new Logger(CallMembershipService.name);
  /** Pending state removals of sessions that are gone here (see {@link retryRemoval}). */
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Join fan-outs waiting for the next turn of the event loop (see {@link announce}). */
  private readonly announcements: (() => void)[] = [];
  /** Sessions whose join is under way here (written to the state, not yet local). */
  private readonly joining = new Set<string>();
  /** Removals under way: the session is gone from here, its media and state not yet. */
  private readonly removals = new Set<Promise<void>>();
  private closing = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: MembershipOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectMediaPlane() private readonly media: MediaPlane,
    @InjectCallDelivery() private readonly delivery: CallDelivery,
    private readonly sessions: LocalSessions,
    private readonly access: CallAccessPolicy,
    private readonly channels: ChannelSettingsStore,
    private readonly drain: DrainState,
    private readonly metrics: CallsMetrics,
    @InjectSessionRelay() private readonly relay: SessionRelay,
  ) {}

  /**
   * Joins the user to the channel's call (starting it if needed), as a new session served by the
   * request's connection.
   * @throws AlreadyInCallError, DrainingError, ForbiddenError, CallFullError
   */
  async join(request: JoinRequest): Promise<CallState> {
    const { userId, sessionId, channelId, connection } = request;
    if (connection.sessionId) throw new AlreadyInCallError(connection.sessionId);
    if (this.drain.draining) throw new DrainingError();
    await this.access.assertCanJoin(userId, channelId);
    if (!(await this.channels.isEnabled(channelId))) {
      throw new ForbiddenError('calls are disabled in this channel');
    }
    this.joining.add(sessionId);
    let call: CallState;
    let created: boolean;
    try {
      ({ call, created } = await this.state.joinCall(
        { channelId, ownerId: userId, title: request.title, threadId: request.threadId },
        {
          sessionId,
          userId,
          unmuted: false,
          raisedHand: 0,
          video: false,
          joinAt: Date.now(),
          instanceId: this.options.instanceId,
        },
        { maxSessions: this.options.maxCallParticipants },
      ));
      try {
        // The session joined muted (unmuted: false): its voice waits for its unmute.
        await this.media.openSession(
          { callId: call.id, sessionId, userId },
          { muted: true, ...request.media },
        );
      } catch (err) {
        await this.state.removeSession(call.id, sessionId);
        throw err;
      }
      this.attach(connection, { sessionId, callId: call.id, channelId, userId });
    } finally {
      this.joining.delete(sessionId);
    }
    this.logger.log(`session joined [callId=${call.id}, sessionId=${sessionId}, userId=${userId}]`);

    this.delivery.toSession(sessionId, channelId, { type: 'joined', sessionId });
    this.announce(() => this.announceJoin(call, created, userId, sessionId));
    return call;
  }

  /**
   * Queues a join's fan-out (one frame per connection following the channel, a call state that
   * grows with the call) for the check phase of this turn of the event loop, after the pending I/O
   * callbacks: in a burst of joins each joiner's acknowledgement, offer and answer are not held
   * behind everyone else's broadcasts, and the frames a connection gets from the whole burst leave
   * together. All of it runs within this turn, before any later message of the joiner can be
   * handled, so events keep their order.
   */
  private announce(fanOut: () => void): void {
    if (this.announcements.push(fanOut) > 1) return;
    setImmediate(() => {
      for (const next of this.announcements.splice(0)) {
        try {
          next();
        } catch (err) {
          this.logger.warn(`join fan-out failed: ${(err as Error).message}`);
        }
      }
    });
  }

  private announceJoin(call: CallState, created: boolean, userId: string, sessionId: string): void {
    const { channelId } = call;
    if (created) this.delivery.toChannel(channelId, { type: 'call-started', call });
    this.delivery.toChannel(channelId, { type: 'session-joined', userId, sessionId });
    if (created || joinMadeHost(call, userId, sessionId)) this.hostChanged(call);
    this.delivery.toUser(userId, { type: 'call-state', call, forUserId: userId }, channelId);
  }

  /**
   * Hands a session to a new connection after its client reconnected (within the grace period):
   * the session keeps its id and media; no `joined` is sent again. When another instance serves
   * it (the connection came back through this one), it stays there and is served through this
   * connection (see {@link SessionRelay}).
   * @throws ForbiddenError, CallNotFoundError, SessionNotFoundError, AlreadyInCallError
   */
  async reconnect(request: ReconnectRequest): Promise<CallState> {
    const { userId, connection } = request;
    await this.access.assertCanJoin(userId, request.channelId);
    const call = await this.state.getCallByChannel(request.channelId);
    if (!call) throw new CallNotFoundError(`channel:${request.channelId}`);
    const session =
      call.sessions[request.originalConnId] ??
      (request.prevConnId ? call.sessions[request.prevConnId] : undefined);
    if (!session || session.userId !== userId) {
      throw new SessionNotFoundError(call.id, request.originalConnId);
    }
    // A connection serves one session: taking another over would orphan the one it serves.
    const current = connection.sessionId;
    if (current && current !== session.sessionId) throw new AlreadyInCallError(current);
    const { sessionId, instanceId } = session;
    if (!this.sessions.get(sessionId) && instanceId !== this.options.instanceId) {
      const place = { sessionId, callId: call.id, channelId: call.channelId, userId };
      await this.relay.reconnect(instanceId, place, connection);
      this.logger.log(
        `session reconnected through this instance [callId=${call.id}, sessionId=${sessionId}, servedBy=${instanceId}]`,
      );
      return call;
    }
    this.takeOver(call.id, sessionId, connection);
    this.logger.log(`session reconnected [callId=${call.id}, sessionId=${sessionId}]`);
    return call;
  }

  /**
   * A session served here is now served through `connection` (its client reconnected, here or
   * through another instance): its grace timer stops and its previous connection is let go.
   * @throws SessionNotFoundError when it is not served here
   */
  takeOver(callId: string, sessionId: string, connection: SessionConnection): void {
    const local = this.sessions.get(sessionId);
    if (!local) throw new SessionNotFoundError(callId, sessionId);
    if (local.graceTimer) clearTimeout(local.graceTimer);
    local.graceTimer = undefined;
    // The old connection is stale; it must not end the session when it finally closes.
    if (local.connection && local.connection !== connection) local.connection.detach();
    this.attach(connection, local);
    // What the SFU sent while the client was away is lost: an unanswered offer is sent again.
    this.media.clientReconnected(sessionId);
  }

  /**
   * Whether this instance serves the session: it is local (connected, or waiting for its
   * reconnect), or its join is under way here.
   */
  serves(sessionId: string): boolean {
    return this.sessions.get(sessionId) !== undefined || this.joining.has(sessionId);
  }

  /** The connection's session leaves its call. */
  async leave(connection: SessionConnection): Promise<void> {
    const sessionId = connection.sessionId;
    if (!sessionId) return;
    connection.detach();
    if (!this.sessions.get(sessionId) && this.relay.isRemote(sessionId)) {
      await this.relay.leave(sessionId);
      return;
    }
    await this.removeSession(sessionId, 'left');
  }

  /** The connection closed: its session waits for a reconnect, then is removed. */
  connectionLost(connection: SessionConnection): void {
    const sessionId = connection.sessionId;
    if (!sessionId) return;
    const local = this.sessions.get(sessionId);
    if (!local) {
      if (this.relay.isRemote(sessionId)) this.relay.connectionLost(sessionId, connection);
      return;
    }
    if (local.connection !== connection) return;
    local.connection = null;
    local.graceTimer = setTimeout(() => {
      this.removeSessionInBackground(sessionId, 'reconnect grace expired');
    }, this.options.reconnectGraceMs);
    local.graceTimer.unref();
  }

  /**
   * Removes a session served here from its call: media closed, `screen` off if it shared, `video`
   * off if its camera was on, `session-left`, `host-changed` if the host changed. When it was the
   * last session the call ends (no `call-ended`: clients infer it).
   */
  async removeSession(sessionId: string, reason: string): Promise<void> {
    const local = this.sessions.delete(sessionId);
    if (!local) return;
    const removal = this.finishRemoval(sessionId, local, reason);
    this.removals.add(removal);
    try {
      await removal;
    } finally {
      this.removals.delete(removal);
    }
  }

  /**
   * Resolves once the removals under way have finished, whatever their outcome (a drain that sees
   * no session left waits for them: the last `leave` is then written to the state and answered
   * before the instance closes).
   */
  async removalsSettled(): Promise<void> {
    await Promise.allSettled([...this.removals]);
  }

  private async finishRemoval(
    sessionId: string,
    local: LocalSession,
    reason: string,
  ): Promise<void> {
    local.connection?.detach();
    await this.media.closeSession(sessionId).catch((err: unknown) => {
      this.logger.warn(`closing media failed [sessionId=${sessionId}]: ${(err as Error).message}`);
    });
    try {
      await this.removeFromState(local.callId, sessionId, reason);
    } catch (err) {
      // Gone here already (connection, media): keep removing it from the shared state until the
      // backend answers again, or it would stay in the call as a ghost once Redis is back.
      this.retryRemoval(local, reason, REMOVAL_RETRIES);
      throw err;
    }
  }

  /**
   * {@link removeSession} from a timer or a media event: a failure (the state backend is away) is
   * logged and retried, never left as an unhandled rejection (which would end the process).
   */
  removeSessionInBackground(sessionId: string, reason: string): void {
    this.removeSession(sessionId, reason).catch((err: unknown) => {
      this.logger.warn(
        `removing session failed, retrying [sessionId=${sessionId}, reason=${reason}]: ${(err as Error).message}`,
      );
    });
  }

  /**
   * Removes a session from the shared state with the usual events, without touching media (its
   * instance is gone, or it is served here and already closed). Also used when an instance died.
   */
  async removeFromState(callId: string, sessionId: string, reason: string): Promise<void> {
    const { call, previous, removed } = await this.state.removeSession(callId, sessionId);
    if (!previous || !removed) return;
    this.metrics.leaves.inc({ reason });
    this.logger.log(`session left [callId=${callId}, sessionId=${sessionId}, reason=${reason}]`);
    const who = { userId: removed.userId, sessionId };
    if (previous.screenSharingSessionId === sessionId) {
      this.delivery.toParticipants(previous, { type: 'screen', on: false, ...who });
    }
    if (removed.video) this.delivery.toParticipants(previous, { type: 'video', on: false, ...who });
    this.delivery.toChannel(previous.channelId, { type: 'session-left', ...who });
    if (call && call.hostId !== previous.hostId) this.hostChanged(call);
    if (!call) {
      this.logger.log(`call ended [callId=${callId}]`);
      await this.media.closeCall(callId);
    }
  }

  /** Tells the participants who the host is now. */
  hostChanged(call: CallState): void {
    this.delivery.toParticipants(call, { type: 'host-changed', call });
  }

  /** Removes every session this instance serves (shutdown); a failure does not stop the shutdown. */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.retries.forEach((t) => clearTimeout(t));
    this.retries.clear();
    const results = await Promise.allSettled(
      this.sessions.all().map((s) => this.removeSession(s.sessionId, 'shutdown')),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0)
      this.logger.warn(`sessions not removed from the call state at shutdown [count=${failed}]`);
  }

  /** Tries the state removal of a session again later, `left` more times. */
  private retryRemoval(local: LocalSession, reason: string, left: number): void {
    if (this.closing || left <= 0) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      const { callId, sessionId } = local;
      // Joined again meanwhile (same connection, same session id): the new session owns its state.
      if (this.sessions.get(sessionId)) return;
      this.removeFromState(callId, sessionId, reason).catch((err: unknown) => {
        if (left === 1) {
          this.logger.error(
            `gave up removing a session from the call state [sessionId=${sessionId}]: ${(err as Error).message}`,
          );
        }
        this.retryRemoval(local, reason, left - 1);
      });
    }, REMOVAL_RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  /** Makes the connection serve the session (a new local session, or one taken over). */
  private attach(
    connection: SessionConnection,
    place: Pick<LocalSession, 'sessionId' | 'callId' | 'channelId' | 'userId'>,
  ): void {
    connection.attach(place);
    const existing = this.sessions.get(place.sessionId);
    if (existing) existing.connection = connection;
    else this.sessions.add({ ...place, connection });
  }
}

/**
 * Whether a join into a running call made the joiner host: only the host-locked user takes the
 * host role back by joining, when no other session of theirs was in the call already.
 */
function joinMadeHost(call: CallState, userId: string, sessionId: string): boolean {
  if (call.hostId !== userId || call.hostLockedUserId !== userId) return false;
  return !Object.values(call.sessions).some(
    (s) => s.userId === userId && s.sessionId !== sessionId,
  );
}
