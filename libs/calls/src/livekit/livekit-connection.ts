import { randomUUID } from 'node:crypto';
import { DisconnectReason, type SignalRequest } from '@livekit/protocol';
import type WebSocket from 'ws';
import type { CallEvent } from '../calls/call-events';
import type { SessionConnection, SessionPlace } from '../calls/local-sessions';
import { TokenBucket } from '../calls/token-bucket';
import { reactToCallEvent } from '../protocol/livekit/call-event.mapping';
import {
  decodeSignalRequest,
  encodeSignalResponse,
  LiveKitFrameError,
  type SignalMessage,
} from '../protocol/livekit/livekit-codec';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import type { VerifiedLiveKitToken } from '../protocol/livekit/livekit-tokens';
import { coalesceUpdates } from '../protocol/livekit/update-coalescing';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import type { RoomView } from '../protocol/livekit/room-view';
import type { LiveKitMediaSession } from './livekit-media-session.interface';

/** WebSocket close codes the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
} as const;

/**
 * How long a connection whose client was told to reconnect (`leave` with action RECONNECT) stays
 * open for the client to close it: livekit-client closes it as its reconnect starts, and a server
 * close on top makes it schedule a second reconnect, which leaves it buffering room events forever.
 */
const RECONNECT_LINGER_MS = 2000;

/**
 * How long call events wait after the join response for the client's first message (see
 * {@link LiveKitConnection.joined}).
 */
const HOLD_FOR_MESSAGE_MS = 1000;

/** What waits for a connection's join, and how long (see {@link LiveKitConnection.joined}). */
export interface JoinHold {
  /** Until the client's first message (at most {@link HOLD_FOR_MESSAGE_MS}). */
  readonly firstMessage: boolean;
  /** At least this long after the join response (ms). */
  readonly minMs: number;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  readonly messageRate: number;
  readonly messageBurst: number;
  readonly maxFrameBytes: number;
  /** Without any client message for this long (ms) the connection is closed (LiveKit's ping timeout). */
  readonly idleTimeoutMs: number;
}

/** What the transport does for a connection. */
export interface ConnectionHooks {
  /** It now serves a session (register it for delivery). */
  attached(connection: LiveKitConnection): void;
  /** It no longer serves a session. */
  detached(connection: LiveKitConnection): void;
  /** A client request, in order (one at a time per connection). */
  request(connection: LiveKitConnection, request: SignalRequest): Promise<void>;
  /** The session leaves the call now (removed, call ended). */
  leaveCall(connection: LiveKitConnection): Promise<void>;
  /** The socket closed (the session waits for the client to come back, within the grace). */
  closed(connection: LiveKitConnection): void;
  /** A refused frame, counted. */
  refused(problem: string): void;
}

/** Who the connection's client is: the verified token and what it names. */
export interface LiveKitClient {
  readonly token: VerifiedLiveKitToken;
  /** Internal user id. */
  readonly userId: string;
  /** Internal channel id (the token's room). */
  readonly channelId: string;
  readonly sessionId: string;
}

/**
 * One LiveKit signal WebSocket, as the core's {@link SessionConnection}: binary protobuf frames in
 * (size-limited, rate-limited, handled in order), `SignalResponse`s out. Until the join response
 * is sent, call events wait (the room view is filled from the call state first).
 */
export class LiveKitConnection implements SessionConnection {
  readonly id = randomUUID();
  private place: SessionPlace | null = null;
  private roomView: RoomView | null = null;
  private readonly waiting: (() => void)[] = [];
  /** Whether what waits for the join may go (see {@link joined}). */
  private released = false;
  /** Messages collected while what waited for the join is applied (see {@link release}). */
  private batch: SignalMessage[] | null = null;
  /** Whether the client has sent a message since its join response (or need not have). */
  private heard = false;
  /** Not released before this time (ms). */
  private holdUntil = 0;
  private readonly limiter: TokenBucket;
  private queue: Promise<void> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | null = null;
  private lastMessageAt = Date.now();
  private ended = false;
  /** Ending after a `leave` the server sent: a detach must not send another. */
  private leaving = false;
  /** Why the server ends it, when it knows before the core detaches it. */
  private endReason: DisconnectReason | null = null;
  /** The media of the session, when a LiveKit media implementation is bound. */
  media: LiveKitMediaSession | null = null;
  /** Timers the connection owns (token refresh). */
  readonly timers = new Set<NodeJS.Timeout>();
  /** Closes the socket of a client told to reconnect, if it does not close it first. */
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: WebSocket,
    readonly client: LiveKitClient,
    private readonly limits: ConnectionLimits,
    private readonly hooks: ConnectionHooks,
  ) {
    this.limiter = new TokenBucket(limits.messageRate, limits.messageBurst);
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    socket.on('close', () => this.onClose());
    socket.on('error', () => undefined);
    this.idleTimer = setInterval(() => this.checkIdle(), Math.min(limits.idleTimeoutMs, 5000));
    this.idleTimer.unref();
  }

  get sessionId(): string | undefined {
    return this.place?.sessionId;
  }

  /** Where its session sits (after the join). */
  get session(): SessionPlace | null {
    return this.place;
  }

  /** The room as its client sees it (after the join response). */
  get view(): RoomView | null {
    return this.roomView;
  }

  /** Whether the socket is still open and not ending. */
  get open(): boolean {
    return !this.ended;
  }

  attach(place: SessionPlace): void {
    this.place = place;
    this.hooks.attached(this);
  }

  detach(): void {
    if (!this.place) return;
    this.hooks.detached(this);
    this.place = null;
    // Removed by the server (host, duplicate identity, instance shutdown): tell the client why.
    if (!this.ended && !this.leaving) {
      this.close(this.endReason ?? DisconnectReason.PARTICIPANT_REMOVED);
    }
  }

  /**
   * The join is done: the view is filled, the client was sent `join`. What waits for the join
   * (call events, other participants, subscriber offers) goes now, or as `hold` says: after the
   * client's first message, since livekit-client drops room events that come before it has taken
   * in the join response of a full reconnect (its first message, its publisher offer, comes after
   * it has); and for a client that joins again, not before `minMs`, since livekit-client 2.x also
   * loses room events that come between its `Reconnected` and the end of its engine's reconnect
   * attempt (at least 2 s after the join response).
   */
  joined(view: RoomView, hold: JoinHold = { firstMessage: false, minMs: 0 }): void {
    this.roomView = view;
    this.holdUntil = Date.now() + hold.minMs;
    this.heard = !hold.firstMessage;
    const later = (ms: number, then: () => void) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        then();
      }, ms);
      timer.unref();
      this.timers.add(timer);
    };
    if (hold.firstMessage) {
      later(HOLD_FOR_MESSAGE_MS, () => {
        this.heard = true;
        this.release();
      });
    }
    if (hold.minMs > 0) later(hold.minMs, () => this.release());
    this.release();
  }

  /**
   * Applies what waited for the join. Its messages go out together, consecutive updates merged
   * ({@link coalesceUpdates}): a client held while many join at once has one `update` per change
   * waiting, a few hundred at 200 participants.
   */
  private release(): void {
    if (this.released || !this.roomView || !this.heard || Date.now() < this.holdUntil) return;
    this.released = true;
    this.batch = [];
    try {
      for (const apply of this.waiting.splice(0)) apply();
    } finally {
      this.flush();
    }
  }

  /** Sends server messages (dropped once the connection ends). */
  send(...messages: SignalMessage[]): void {
    if (this.ended || this.socket.readyState !== this.socket.OPEN) return;
    if (this.batch) this.batch.push(...messages);
    else for (const message of messages) this.socket.send(encodeSignalResponse(message));
  }

  /** Sends what {@link release} collected (before anything that ends the connection). */
  private flush(): void {
    const batch = this.batch;
    this.batch = null;
    if (batch && batch.length > 0) this.send(...coalesceUpdates(batch));
  }

  /** A call event for this client: applied to its room view, sent, and an end acted on. */
  deliver(event: CallEvent): void {
    this.deliverAll([event]);
  }

  /**
   * Call events for this client, in order, each applied to its room view; the participant changes
   * of consecutive events go out as one `update` (a batch of joins: one message, not one each).
   */
  deliverAll(events: readonly CallEvent[]): void {
    this.whenJoined((view) => {
      let messages: SignalMessage[] = [];
      const sendMessages = () => {
        this.send(...coalesceUpdates(messages));
        messages = [];
      };
      for (const event of events) {
        const { messages: own, data = [], stopTracks = [], end } = reactToCallEvent(view, event);
        messages.push(...own);
        if (data.length === 0 && stopTracks.length === 0 && !end) continue;
        sendMessages();
        for (const { label, payload } of data) this.media?.sendData(label, payload);
        for (const sid of stopTracks)
          void this.media?.setTrackMuted(sid, true).catch(() => undefined);
        if (end) this.end(end.leaveCall, end.reconnect === true);
      }
      sendMessages();
    });
  }

  /** Another LiveKit participant's view (relayed): shown to this client. */
  showParticipant(participant: ParticipantView): void {
    this.whenJoined((view) => this.send(...view.upsert(participant)));
  }

  /** Runs against the room view once the join response went out (and was taken in). */
  whenJoined(apply: (view: RoomView) => void): void {
    if (this.roomView && this.released) apply(this.roomView);
    else this.waiting.push(() => apply(this.roomView!));
  }

  /**
   * Ends the connection after the server sent `leave`: the session leaves the call now, or waits
   * for the client to come back within the grace. A client told to reconnect (`reconnect`) closes
   * the socket itself; the server closes it only if the client has not after a moment.
   */
  end(leaveCall: boolean, reconnect = false): void {
    if (this.ended || this.leaving) return;
    this.leaving = true;
    const linger = reconnect ? RECONNECT_LINGER_MS : 0;
    if (leaveCall && this.place) {
      void this.hooks.leaveCall(this).finally(() => this.close(null, linger));
    } else {
      this.close(null, linger);
    }
  }

  /**
   * Runs `task` after every task queued before it: the join first (the transport queues it as
   * the connection opens), then the client's requests in the order they came, so a request sent
   * before the join response is handled after the join, like LiveKit's. A task's failure is its
   * own (it should not throw).
   */
  enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch(() => undefined);
  }

  /** Marks why the server is about to remove the session (sent in `leave` when it detaches). */
  removing(reason: DisconnectReason): void {
    this.endReason = reason;
  }

  /** Closes the socket with a reason (a protocol error: no `leave`). */
  closeWithError(code: number, reason: string): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.stopTimers();
    this.socket.close(code, reason.slice(0, 120));
  }

  private close(reason: DisconnectReason | null, lingerMs = 0): void {
    if (this.ended) return;
    this.flush();
    if (reason !== null) {
      this.send(LiveKitMessages.leave(reason));
    }
    this.ended = true;
    this.stopTimers();
    if (lingerMs === 0) {
      this.socket.close(CloseCode.normal, 'leave');
      return;
    }
    this.lingerTimer = setTimeout(() => this.socket.close(CloseCode.normal, 'leave'), lingerMs);
    this.lingerTimer.unref();
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    this.lastMessageAt = Date.now();
    if (!this.limiter.take()) {
      this.hooks.refused('rate_limited');
      this.closeWithError(CloseCode.policy, 'rate limited');
      return;
    }
    let request: SignalRequest;
    try {
      request = decodeSignalRequest(data, isBinary, this.limits.maxFrameBytes);
    } catch (err) {
      const problem = err instanceof LiveKitFrameError ? err.problem : 'malformed';
      this.hooks.refused(problem);
      const code =
        problem === 'oversized'
          ? CloseCode.tooBig
          : problem === 'text'
            ? CloseCode.unsupportedData
            : CloseCode.invalidPayload;
      this.closeWithError(code, (err as Error).message);
      return;
    }
    // The client took in the join response: what was held for it goes before its request.
    this.heard = true;
    this.release();
    this.enqueue(() => this.hooks.request(this, request));
  }

  private onClose(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.ended = true;
    this.stopTimers();
    void this.media?.close().catch(() => undefined);
    // The core ignores it when the session already left (or was taken over).
    this.hooks.closed(this);
  }

  private checkIdle(): void {
    if (Date.now() - this.lastMessageAt > this.limits.idleTimeoutMs) {
      this.closeWithError(CloseCode.goingAway, 'ping timeout');
    }
  }

  private stopTimers(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
