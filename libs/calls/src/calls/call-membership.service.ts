import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { DrainState } from './drain-state';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { AlreadyInCallError } from '../errors/already-in-call.error';
import { DrainingError } from '../errors/draining.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { SessionNotFoundError } from '../errors/session-not-found.error';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import type { CallState } from '../state/call-state.types';
import { CallsBroadcaster } from '../gateway/calls-broadcaster';
import { CallsRooms } from '../gateway/calls-rooms';
import { InjectMediaPlane, type MediaPlane } from '../media/media-plane.interface';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { type SessionBinding, SessionBindings } from './session-bindings';
import { principalOf, type CallsSocket } from '../gateway/socket-context';

/** A failed state removal is retried every second for five minutes. */
const REMOVAL_RETRY_MS = 1000;
const REMOVAL_RETRIES = 300;

/** What `join` needs. */
export interface JoinRequest {
  readonly channelId: string;
  readonly title?: string;
  readonly threadId?: string;
}

/** What `reconnect` needs. */
export interface ReconnectRequest {
  readonly channelId: string;
  readonly originalConnId: string;
  readonly prevConnId?: string;
}

/**
 * Joining, leaving and reconnecting: the session lifecycle, with Mattermost's events and rules
 * (session id = the connection id at join; first joiner is host; the last leave ends the call
 * without `call_end`; a vanished socket keeps its session for the reconnect grace period).
 */
@Injectable()
export class CallMembershipService implements OnApplicationShutdown {
  private readonly logger = new Logger(CallMembershipService.name);
  private readonly wire: MattermostWire;
  /** Pending state removals of sessions that are gone here (see {@link retryRemoval}). */
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Join fan-outs waiting for the next turn of the event loop (see {@link announce}). */
  private readonly announcements: (() => void)[] = [];
  private closing = false;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    @InjectMediaPlane() private readonly media: MediaPlane,
    private readonly broadcaster: CallsBroadcaster,
    private readonly bindings: SessionBindings,
    private readonly channels: ChannelSettingsStore,
    private readonly drain: DrainState,
    private readonly metrics: CallsMetrics,
  ) {
    this.wire = new MattermostWire(options.idCodec);
  }

  /** Converts a wire channel id to the internal form. @throws InvalidMessageError */
  channelFromWire(wireId: string): string {
    const id = this.options.idCodec.fromWire(wireId);
    if (!id) throw new InvalidMessageError('channelID', 'is not a channel id');
    return id;
  }

  /** Joins the socket's user to the channel's call (starting it if needed). */
  async join(socket: CallsSocket, request: JoinRequest): Promise<CallState> {
    const { userId } = principalOf(socket);
    if (socket.data.sessionId) throw new AlreadyInCallError(socket.data.sessionId);
    if (this.drain.draining) throw new DrainingError();
    const { channelId } = request;
    if (!(await this.options.permissions.canJoinChannel(userId, channelId))) {
      throw new ForbiddenError('forbidden to join this channel');
    }
    if (!(await this.channels.isEnabled(channelId))) {
      throw new ForbiddenError('calls are disabled in this channel');
    }
    const sessionId = socket.data.connectionId!;
    const { call, created } = await this.state.joinCall(
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
    );
    try {
      // The session joined muted (unmuted: false): its voice waits for its unmute.
      await this.media.openSession({ callId: call.id, sessionId, userId }, { muted: true });
    } catch (err) {
      await this.state.removeSession(call.id, sessionId);
      throw err;
    }
    this.bind(socket, { sessionId, callId: call.id, channelId, userId });
    this.logger.log(`session joined [callId=${call.id}, sessionId=${sessionId}, userId=${userId}]`);

    this.broadcaster.toSession(sessionId, 'join', { connID: sessionId }, channelId);
    this.announce(() => this.announceJoin(call, created, userId, sessionId));
    return call;
  }

  /**
   * Queues a join's fan-out (one frame per socket in the channel, a call state that grows with the
   * call) for the check phase of this turn of the event loop, after the pending I/O callbacks: in
   * a burst of joins each joiner's acknowledgement, offer and answer are not held behind everyone
   * else's broadcasts, and the frames a socket gets from the whole burst leave together (see
   * `coalesceWebSocketWrites`). All of it runs within this turn, before any later message of the
   * joiner can be handled, so events keep their order.
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
    if (created) this.broadcaster.toChannel(channelId, 'call_start', this.wire.callStart(call));
    this.broadcaster.toChannel(
      channelId,
      'user_joined',
      this.wire.userAndSession(userId, sessionId),
    );
    if (created) this.hostChanged(call);
    this.broadcaster.toUser(
      userId,
      'call_state',
      {
        channel_id: this.wire.id(channelId),
        call: JSON.stringify(this.wire.callState(call, userId)),
      },
      channelId,
    );
  }

  /**
   * Re-binds a session to a new socket after the client reconnected (within the grace period):
   * the session keeps its id and media; no `join` is sent again.
   */
  async reconnect(socket: CallsSocket, request: ReconnectRequest): Promise<CallState> {
    const { userId } = principalOf(socket);
    if (!(await this.options.permissions.canJoinChannel(userId, request.channelId))) {
      throw new ForbiddenError('forbidden to join this channel');
    }
    const call = await this.state.getCallByChannel(request.channelId);
    if (!call) throw new CallNotFoundError(`channel:${request.channelId}`);
    const session =
      call.sessions[request.originalConnId] ??
      (request.prevConnId ? call.sessions[request.prevConnId] : undefined);
    if (!session || session.userId !== userId) {
      throw new SessionNotFoundError(call.id, request.originalConnId);
    }
    // A socket serves one session: taking another over would orphan the one it serves.
    const current = socket.data.sessionId;
    if (current && current !== session.sessionId) throw new AlreadyInCallError(current);
    const binding = this.bindings.get(session.sessionId);
    if (!binding) throw new SessionNotFoundError(call.id, session.sessionId);
    if (binding.graceTimer) clearTimeout(binding.graceTimer);
    binding.graceTimer = undefined;
    const previous = binding.socket;
    if (previous && previous.id !== socket.id) {
      // The old socket is stale; it must not end the session when it finally closes.
      this.unbindSocket(previous);
    }
    this.bind(socket, binding);
    this.logger.log(`session reconnected [callId=${call.id}, sessionId=${session.sessionId}]`);
    return call;
  }

  /** The socket's session leaves its call. */
  async leave(socket: CallsSocket): Promise<void> {
    const sessionId = socket.data.sessionId;
    if (!sessionId) return;
    this.unbindSocket(socket);
    await this.removeSession(sessionId, 'left');
  }

  /** The socket closed: its session waits for a reconnect, then is removed. */
  disconnected(socket: CallsSocket): void {
    const sessionId = socket.data.sessionId;
    if (!sessionId) return;
    const binding = this.bindings.get(sessionId);
    if (!binding || binding.socket !== socket) return;
    binding.socket = null;
    binding.graceTimer = setTimeout(() => {
      this.removeSessionInBackground(sessionId, 'reconnect grace expired');
    }, this.options.reconnectGraceMs);
    binding.graceTimer.unref();
  }

  /**
   * Removes a session from its call, with Mattermost's events: `user_screen_off` if it shared,
   * `user_video_off` if its camera was on, `user_left`, `call_host_changed` if the host changed.
   * When it was the last session the call ends (no `call_end`: clients infer it).
   */
  async removeSession(sessionId: string, reason: string): Promise<void> {
    const binding = this.bindings.delete(sessionId);
    if (!binding) return;
    if (binding.socket) this.unbindSocket(binding.socket);
    await this.media.closeSession(sessionId).catch((err: unknown) => {
      this.logger.warn(`closing media failed [sessionId=${sessionId}]: ${(err as Error).message}`);
    });
    try {
      await this.removeFromState(binding.callId, binding.channelId, sessionId, reason);
    } catch (err) {
      // Gone here already (socket, media): keep removing it from the shared state until the
      // backend answers again, or it would stay in the call as a ghost once Redis is back.
      this.retryRemoval(binding, reason, REMOVAL_RETRIES);
      throw err;
    }
  }

  /**
   * {@link removeSession} from a timer or an SFU event: a failure (the state backend is away) is
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
  async removeFromState(
    callId: string,
    channelId: string,
    sessionId: string,
    reason: string,
  ): Promise<void> {
    const { call, previous, removed } = await this.state.removeSession(callId, sessionId);
    if (!previous || !removed) return;
    this.metrics.leaves.inc({ reason });
    this.logger.log(`session left [callId=${callId}, sessionId=${sessionId}, reason=${reason}]`);
    const userIds = Object.values(previous.sessions).map((s) => s.userId);
    const who = this.wire.userIdAndSession(removed.userId, sessionId);
    if (previous.screenSharingSessionId === sessionId) {
      this.broadcaster.toParticipants(channelId, userIds, 'user_screen_off', who);
    }
    if (removed.video) this.broadcaster.toParticipants(channelId, userIds, 'user_video_off', who);
    this.broadcaster.toChannel(
      channelId,
      'user_left',
      this.wire.userAndSession(removed.userId, sessionId),
    );
    if (call && call.hostId !== previous.hostId) this.hostChanged(call);
    if (!call) {
      this.logger.log(`call ended [callId=${callId}]`);
      await this.media.closeCall(callId);
    }
  }

  /** Emits `call_host_changed` to the participants. */
  hostChanged(call: CallState): void {
    const userIds = Object.values(call.sessions).map((s) => s.userId);
    this.broadcaster.toParticipants(call.channelId, userIds, 'call_host_changed', {
      hostID: this.wire.id(call.hostId),
      host_id_raw: call.hostId,
      call_id: this.wire.id(call.id),
      call_id_raw: call.id,
    });
  }

  /** Removes every session this instance serves (shutdown); a failure does not stop the shutdown. */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.retries.forEach((t) => clearTimeout(t));
    this.retries.clear();
    const results = await Promise.allSettled(
      this.bindings.all().map((b) => this.removeSession(b.sessionId, 'shutdown')),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0)
      this.logger.warn(`sessions not removed from the call state at shutdown [count=${failed}]`);
  }

  /** Tries the state removal of a session again later, `left` more times. */
  private retryRemoval(binding: SessionBinding, reason: string, left: number): void {
    if (this.closing || left <= 0) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      const { callId, channelId, sessionId } = binding;
      // Joined again meanwhile (same socket, same session id): the new session owns its state.
      if (this.bindings.get(sessionId)) return;
      this.removeFromState(callId, channelId, sessionId, reason).catch((err: unknown) => {
        if (left === 1) {
          this.logger.error(
            `gave up removing a session from the call state [sessionId=${sessionId}]: ${(err as Error).message}`,
          );
        }
        this.retryRemoval(binding, reason, left - 1);
      });
    }, REMOVAL_RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  private bind(
    socket: CallsSocket,
    binding: Pick<SessionBinding, 'sessionId' | 'callId' | 'channelId' | 'userId'>,
  ): void {
    socket.data.sessionId = binding.sessionId;
    socket.data.callId = binding.callId;
    socket.data.channelId = binding.channelId;
    void socket.join([
      CallsRooms.session(binding.sessionId),
      CallsRooms.channel(binding.channelId),
    ]);
    const existing = this.bindings.get(binding.sessionId);
    if (existing) existing.socket = socket;
    else this.bindings.add({ ...binding, socket });
  }

  private unbindSocket(socket: CallsSocket): void {
    if (socket.data.sessionId) void socket.leave(CallsRooms.session(socket.data.sessionId));
    socket.data.sessionId = undefined;
    socket.data.callId = undefined;
  }
}
