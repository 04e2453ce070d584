import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DisconnectReason } from '@livekit/protocol';
import type WebSocket from 'ws';
import { CallMembershipService } from '../calls/call-membership.service';
import { CallQueriesService } from '../calls/call-queries.service';
import { LocalSessions } from '../calls/local-sessions';
import { InjectSessionControl, type SessionControl } from '../calls/session-control.interface';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsError } from '../errors/calls.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { CallsIdCodec, InjectCallsIdCodec } from '../identity/id-codec.interface';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import { MAX_SIGNAL_FRAME_BYTES } from '../protocol/livekit/livekit-codec';
import { LIVEKIT_DATA_CHANNELS } from '../protocol/livekit/livekit-data';
import { formatIdentity } from '../protocol/livekit/livekit-identity';
import { LiveKitMessages } from '../protocol/livekit/livekit-messages';
import { joinResponse, PING_TIMEOUT_SECONDS } from '../protocol/livekit/join-response.builder';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import { RoomView } from '../protocol/livekit/room-view';
import { CloseCode, type LiveKitClient, LiveKitConnection } from './livekit-connection';
import { type IceOptions, iceServersFor } from './livekit-ice-servers';
import { LiveKitMediaLink } from './livekit-media.link';
import { LiveKitSessions } from './livekit-sessions';
import { LiveKitSignalHandler } from './livekit-signal.handler';
import { LiveKitTokenRefresher } from './livekit-token.refresher';
import { LiveKitDelivery } from './livekit.delivery';

/**
 * How long what happens in the call waits for a client that joins again (a full reconnect):
 * livekit-client 2.x loses room events that come between its `Reconnected` and the end of its
 * engine's attempt, which waits at least 2 s after the join response.
 */
const REJOIN_HOLD_MS = 2300;

/** The options the join reads. */
type JoinOptions = Pick<ResolvedCallsOptions, 'wsMessageRate' | 'wsMessageBurst' | 'instanceId'> &
  IceOptions;

/**
 * A LiveKit client's join, once its token was admitted and its WebSocket opened: an older
 * session of the same identity is replaced (`leave DUPLICATE_IDENTITY`), the session joins the
 * call through the core, the client gets `join` (the room filled from the call state: LiveKit and
 * Mattermost sessions alike), and its view goes to the LiveKit clients of the call. A refused join
 * gets `leave JOIN_FAILURE` and the socket is closed.
 */
@Injectable()
export class LiveKitJoinService implements OnModuleInit {
  private readonly logger = new Logger(LiveKitJoinService.name);

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: JoinOptions,
    @InjectCallsIdCodec() private readonly codec: CallsIdCodec,
    @InjectSessionControl() private readonly control: SessionControl,
    private readonly membership: CallMembershipService,
    private readonly queries: CallQueriesService,
    private readonly local: LocalSessions,
    private readonly connections: LiveKitSessions,
    private readonly delivery: LiveKitDelivery,
    private readonly handler: LiveKitSignalHandler,
    private readonly media: LiveKitMediaLink,
    private readonly refresher: LiveKitTokenRefresher,
    private readonly metrics: CallsMetrics,
  ) {}

  onModuleInit(): void {
    this.delivery.onEvict((sessionId) => {
      const connection = this.connections.get(sessionId);
      if (!connection) return;
      connection.removing(DisconnectReason.DUPLICATE_IDENTITY);
      void this.membership.leave(connection).catch(() => undefined);
    });
  }

  /** Serves an admitted client on its new WebSocket. */
  start(socket: WebSocket, client: LiveKitClient): LiveKitConnection {
    const connection = new LiveKitConnection(
      socket,
      client,
      {
        messageRate: this.options.wsMessageRate,
        messageBurst: this.options.wsMessageBurst,
        maxFrameBytes: MAX_SIGNAL_FRAME_BYTES,
        idleTimeoutMs: PING_TIMEOUT_SECONDS * 1000,
      },
      {
        attached: (c) => this.connections.add(c),
        detached: (c) => this.connections.remove(c),
        request: (c, request) => this.handler.handle(c, request),
        leaveCall: (c) => this.membership.leave(c),
        closed: (c) => this.membership.connectionLost(c),
        refused: (problem) => this.metrics.messages.inc({ type: 'livekit:frame', result: problem }),
      },
    );
    // First in the connection's queue: requests sent before the join response wait for it.
    connection.enqueue(() =>
      this.join(connection).catch((err: unknown) => {
        this.logger.error(
          `LiveKit join failed [sessionId=${connection.client.sessionId}]: ${(err as Error).stack ?? String(err)}`,
        );
      }),
    );
    return connection;
  }

  private async join(connection: LiveKitConnection): Promise<void> {
    const { userId, channelId, sessionId, token } = connection.client;
    let call;
    let rejoin = false;
    try {
      rejoin =
        (await this.replaceOlder(connection.client)) || this.connections.takeRejoin(sessionId);
      call = await this.membership.join({
        userId,
        sessionId,
        channelId,
        connection,
        // The session's own media is the client's publisher connection, with its data channels.
        ...(this.media.available
          ? { media: { direction: 'publish', dataChannels: [...LIVEKIT_DATA_CHANNELS] } }
          : {}),
      });
    } catch (err) {
      // The module's errors refuse the join (counted `refused`); anything else is the server's.
      const refused = err instanceof CallsError;
      this.metrics.messages.inc({ type: 'livekit:join', result: refused ? 'refused' : 'error' });
      const what = `[channelId=${channelId}, sessionId=${sessionId}]`;
      if (refused) this.logger.log(`LiveKit join refused ${what}: ${err.message}`);
      else this.logger.error(`LiveKit join failed ${what}: ${(err as Error).stack ?? String(err)}`);
      connection.send(LiveKitMessages.leave(DisconnectReason.JOIN_FAILURE));
      connection.closeWithError(CloseCode.policy, (err as Error).message);
      return;
    }
    if (!connection.open) {
      // The client went away while its join ran: the socket's close found no session to keep.
      await this.membership.leave(connection).catch(() => undefined);
      return;
    }
    const toWire = (id: string) => this.codec.toWire(id);
    const self: ParticipantView = {
      sessionId,
      identity: formatIdentity(toWire(userId), sessionId),
      name: token.name || toWire(userId),
      metadata: token.metadata,
      attributes: { ...token.attributes },
      tracks: [],
      joinedAtMs: call.sessions[sessionId]?.joinAt ?? Date.now(),
      permission: token.grants,
      unmuted: false,
    };
    const view = new RoomView(self, call.id, token.room, toWire);
    const here = this.connections
      .inChannel(channelId)
      .flatMap((c) => (c !== connection && c.view ? [c.view.self] : []));
    view.seed(call, here);
    connection.send(
      joinResponse(view, iceServersFor(this.options, userId), this.options.instanceId),
    );
    // With media, the client negotiates at once: its offer tells it took the join response in.
    connection.joined(view, {
      firstMessage: this.media.available,
      minMs: rejoin && this.media.available ? REJOIN_HOLD_MS : 0,
    });
    this.metrics.messages.inc({ type: 'livekit:join', result: 'ok' });
    this.delivery.showParticipant(channelId, view.self, true);
    this.refresher.start(connection);
    await this.media.open(connection, call.id);
  }

  /**
   * Replaces an older session of the same identity (LiveKit's rule: one participant per identity
   * and room): a LiveKit connection here is told `leave DUPLICATE_IDENTITY` and leaves; a session
   * served elsewhere is evicted there (through the relay, then removed through session control).
   * @returns whether there was one (this join is the client's rejoin)
   * @throws ForbiddenError when the session id belongs to another user
   */
  private async replaceOlder(client: LiveKitClient): Promise<boolean> {
    const { userId, channelId, sessionId } = client;
    const older = this.connections.get(sessionId);
    if (older) {
      if (older.client.userId !== userId) throw new ForbiddenError('session of another user');
      older.removing(DisconnectReason.DUPLICATE_IDENTITY);
      await this.membership.leave(older);
      return true;
    }
    const call = await this.queries.callOfChannel(userId, channelId);
    const existing = call?.sessions[sessionId];
    if (!call || !existing) return false;
    if (existing.userId !== userId) throw new ForbiddenError('session of another user');
    if (!this.local.get(sessionId)) this.delivery.evictElsewhere(sessionId);
    await this.control.remove(call.id, sessionId, 'duplicate identity');
    return true;
  }
}
