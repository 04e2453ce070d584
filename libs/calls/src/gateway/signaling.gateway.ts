import { Inject, Logger, UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Namespace } from 'socket.io';
import { CallAccessPolicy } from '../calls/call-access.policy';
import { CallMembershipService } from '../calls/call-membership.service';
import { CallQueriesService } from '../calls/call-queries.service';
import { SessionActions } from '../calls/session-actions';
import type { SessionAction } from '../calls/session-relay.interface';
import { TokenBucket } from '../calls/token-bucket';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallsIdentity, InjectCallsIdentity } from '../identity/calls-identity.interface';
import { DenyAllIdentity } from '../identity/deny-all.identity';
import { ClientAction, HELLO_EVENT } from '../protocol/mattermost/calls-events';
import { parseIceCandidate } from '../protocol/mattermost/ice-candidate.parser';
import {
  parseEmoji,
  parseStreamId,
  parseTrackSettings,
} from '../protocol/mattermost/json-payloads';
import { MattermostWire } from '../protocol/mattermost/mattermost-wire';
import { decodeSessionDescription } from '../protocol/mattermost/sdp-payload';
import { MATTERMOST_MEDIA } from '../protocol/mattermost/video-defaults';
import { MATTERMOST_PROTOCOL_VERSION } from '../protocol/mattermost/version';
import { SocketIoRooms } from './socket-io-rooms';
import { newConnectionId } from './connection-id';
import { ChannelDto } from './dto/channel.dto';
import { IceDto } from './dto/ice.dto';
import { JoinDto } from './dto/join.dto';
import { JsonDataDto } from './dto/json-data.dto';
import { MetricDto } from './dto/metric.dto';
import { ReconnectDto } from './dto/reconnect.dto';
import { SdpDto } from './dto/sdp.dto';
import { connectionOf, principalOf, sessionOf, type CallsSocket } from './socket-context';
import { SocketSessionConnection } from './socket-session.connection';
import { SocketIoDelivery } from './socket-io.delivery';
import { SocketIoInstanceRelay } from './socket-io-instance.relay';
import type { WsAck } from './ws-ack';
import { CallsWsExceptionFilter } from './ws-exception.filter';
import { WsMessageMetrics } from './ws-message-metrics';
import { wsAdmission } from './ws-admission';
import { wsValidationPipe } from './ws-validation.pipe';
import { coalesceWebSocketWrites } from './ws-write-coalescing';

/** The options the gateway reads. */
type GatewayOptions = Pick<
  ResolvedCallsOptions,
  'wsMessageRate' | 'wsMessageBurst' | 'maxSdpBytes'
>;

const KNOWN_ACTIONS = new Set<string>(Object.values(ClientAction));
const OK: WsAck = { ok: true };

/**
 * The Mattermost calls protocol over socket.io (namespace `/calls`). Thin: authenticate the
 * handshake, validate each message, call a service, acknowledge. Actions of one socket are handled
 * one at a time, in order.
 */
@WebSocketGateway({
  namespace: '/calls',
  cors: { origin: true, credentials: true },
  maxHttpBufferSize: 256 * 1024,
})
@UseFilters(CallsWsExceptionFilter)
@UsePipes(wsValidationPipe)
export class SignalingGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(SignalingGateway.name);
  private readonly queues = new WeakMap<CallsSocket, Promise<unknown>>();

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: GatewayOptions,
    @InjectCallsIdentity() private readonly identity: CallsIdentity,
    private readonly wire: MattermostWire,
    private readonly delivery: SocketIoDelivery,
    private readonly access: CallAccessPolicy,
    private readonly membership: CallMembershipService,
    private readonly actions: SessionActions,
    private readonly queries: CallQueriesService,
    private readonly relay: SocketIoInstanceRelay,
    private readonly messages: WsMessageMetrics,
  ) {}

  afterInit(server: Namespace): void {
    this.delivery.attach(server);
    this.relay.attach(server);
    coalesceWebSocketWrites(server.server.engine);
    if (this.identity instanceof DenyAllIdentity) {
      this.logger.warn('no identity given to CallsModule: every socket and request is refused');
    }
    // Unauthenticated sockets never connect: they get a connect_error and nothing else.
    server.use((socket, next) => {
      const { headers, auth, query } = socket.handshake;
      this.identity
        .authenticateSocket({ headers, auth: auth, query: query })
        .then((principal) => {
          if (!principal) return next(new Error('unauthorized'));
          (socket as CallsSocket).data.principal = principal;
          next();
        })
        .catch(() => next(new Error('unauthorized')));
    });
  }

  async handleConnection(socket: CallsSocket): Promise<void> {
    const principal = socket.data.principal;
    if (!principal) {
      socket.disconnect(true);
      return;
    }
    socket.data.connectionId = newConnectionId();
    socket.data.connection = new SocketSessionConnection(socket);
    socket.data.limiter = new TokenBucket(this.options.wsMessageRate, this.options.wsMessageBurst);
    socket.use(wsAdmission(socket, KNOWN_ACTIONS, this.options.wsMessageRate));
    await socket.join(SocketIoRooms.user(principal.userId));
    const channels = await this.access.channelsToFollow(principal.userId);
    if (channels.length > 0) await socket.join(channels.map((c) => SocketIoRooms.channel(c)));
    this.delivery.toSocket(
      socket,
      HELLO_EVENT,
      { connection_id: socket.data.connectionId, server_version: MATTERMOST_PROTOCOL_VERSION },
      { user_id: this.wire.id(principal.userId), connection_id: socket.data.connectionId },
    );
  }

  handleDisconnect(socket: CallsSocket): void {
    if (socket.data.connection) this.membership.connectionLost(socket.data.connection);
  }

  @SubscribeMessage(ClientAction.join)
  join(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: JoinDto): Promise<WsAck> {
    return this.serial(socket, ClientAction.join, async () => {
      const call = await this.membership.join({
        userId: principalOf(socket).userId,
        sessionId: socket.data.connectionId!,
        channelId: this.wire.internalId('channelID', dto.channelID),
        title: dto.title,
        threadId: this.wire.optionalId(dto.threadID),
        connection: connectionOf(socket),
        media: MATTERMOST_MEDIA,
      });
      return { ok: true, connID: socket.data.sessionId, callID: this.wire.id(call.id) };
    });
  }

  @SubscribeMessage(ClientAction.reconnect)
  reconnect(
    @ConnectedSocket() socket: CallsSocket,
    @MessageBody() dto: ReconnectDto,
  ): Promise<WsAck> {
    return this.serial(socket, ClientAction.reconnect, async () => {
      await this.membership.reconnect({
        userId: principalOf(socket).userId,
        channelId: this.wire.internalId('channelID', dto.channelID),
        connection: connectionOf(socket),
        originalConnId: dto.originalConnID,
        prevConnId: dto.prevConnID,
      });
      return { ok: true, connID: socket.data.sessionId };
    });
  }

  @SubscribeMessage(ClientAction.leave)
  leave(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.serial(socket, ClientAction.leave, async () => {
      await this.membership.leave(connectionOf(socket));
      return OK;
    });
  }

  @SubscribeMessage(ClientAction.sdp)
  sdp(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: SdpDto): Promise<WsAck> {
    return this.act(socket, ClientAction.sdp, () => ({
      type: 'description',
      description: decodeSessionDescription(dto.data, this.options.maxSdpBytes),
    }));
  }

  @SubscribeMessage(ClientAction.ice)
  ice(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: IceDto): Promise<WsAck> {
    return this.act(socket, ClientAction.ice, () => {
      const candidate = parseIceCandidate({
        candidate: dto.data ?? dto.candidate,
        sdpMid: dto.sdpMid,
        sdpMLineIndex: dto.sdpMLineIndex,
      });
      return candidate ? { type: 'ice', candidate } : null;
    });
  }

  @SubscribeMessage(ClientAction.mute)
  mute(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.mute, () => ({ type: 'mute', muted: true }));
  }

  @SubscribeMessage(ClientAction.unmute)
  unmute(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.unmute, () => ({ type: 'mute', muted: false }));
  }

  @SubscribeMessage(ClientAction.raiseHand)
  raiseHand(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.raiseHand, () => ({ type: 'hand', raised: true }));
  }

  @SubscribeMessage(ClientAction.unraiseHand)
  unraiseHand(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.unraiseHand, () => ({ type: 'hand', raised: false }));
  }

  @SubscribeMessage(ClientAction.react)
  react(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: JsonDataDto): Promise<WsAck> {
    return this.act(socket, ClientAction.react, () => ({
      type: 'react',
      emoji: parseEmoji(dto.data),
    }));
  }

  @SubscribeMessage(ClientAction.screenOn)
  screenOn(
    @ConnectedSocket() socket: CallsSocket,
    @MessageBody() dto: JsonDataDto,
  ): Promise<WsAck> {
    return this.act(socket, ClientAction.screenOn, () => ({
      type: 'screen-on',
      streamId: parseStreamId(dto.data, 'screenStreamID'),
    }));
  }

  @SubscribeMessage(ClientAction.screenOff)
  screenOff(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.screenOff, () => ({ type: 'screen-off' }));
  }

  @SubscribeMessage(ClientAction.videoOn)
  videoOn(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: JsonDataDto): Promise<WsAck> {
    return this.act(socket, ClientAction.videoOn, () => ({
      type: 'video',
      on: true,
      streamId: parseStreamId(dto.data, 'videoStreamID'),
    }));
  }

  @SubscribeMessage(ClientAction.videoOff)
  videoOff(@ConnectedSocket() socket: CallsSocket): Promise<WsAck> {
    return this.act(socket, ClientAction.videoOff, () => ({ type: 'video', on: false }));
  }

  /** This server's extension: how the client wants another session's camera or screen. */
  @SubscribeMessage(ClientAction.trackSettings)
  trackSettings(
    @ConnectedSocket() socket: CallsSocket,
    @MessageBody() dto: JsonDataDto,
  ): Promise<WsAck> {
    return this.act(socket, ClientAction.trackSettings, () => ({
      type: 'track-settings',
      ...parseTrackSettings(dto.data),
    }));
  }

  /** Replies `call_state` to this connection (and follows the channel's events from now on). */
  @SubscribeMessage(ClientAction.callState)
  callState(
    @ConnectedSocket() socket: CallsSocket,
    @MessageBody() dto: ChannelDto,
  ): Promise<WsAck> {
    return this.serial(socket, ClientAction.callState, async () => {
      const channelId = this.wire.internalId('channelID', dto.channelID);
      const { userId } = principalOf(socket);
      const call = await this.queries.follow(userId, channelId, () =>
        socket.join(SocketIoRooms.channel(channelId)),
      );
      const payload = {
        channel_id: this.wire.id(channelId),
        channel_id_raw: channelId,
        call: call ? JSON.stringify(this.wire.callState(call, userId)) : '',
      };
      this.delivery.toSocket(socket, 'call_state', payload, {
        channel_id: payload.channel_id,
        connection_id: socket.data.connectionId,
      });
      return { ok: true, call: payload.call };
    });
  }

  @SubscribeMessage(ClientAction.metric)
  metric(@ConnectedSocket() socket: CallsSocket, @MessageBody() dto: MetricDto): WsAck {
    this.logger.debug(
      `client metric [sessionId=${socket.data.sessionId ?? '-'}, name=${dto.metric_name}]`,
    );
    this.messages.handled(ClientAction.metric, OK, performance.now());
    return OK;
  }

  /**
   * Runs an action of the socket's session (made by `build`, null for nothing to do), after the
   * socket's earlier actions, wherever the session is served.
   */
  private act(
    socket: CallsSocket,
    event: string,
    build: () => SessionAction | null,
  ): Promise<WsAck> {
    return this.serial(socket, event, async () => {
      const session = sessionOf(socket);
      const action = build();
      if (action) await this.actions.perform(session, action);
      return OK;
    });
  }

  /**
   * Runs `fn` (the handler of `event`) after the socket's earlier actions and counts what it
   * acknowledged; a failure goes to the exception filter, which counts it.
   */
  private serial(socket: CallsSocket, event: string, fn: () => Promise<WsAck>): Promise<WsAck> {
    const started = performance.now();
    const previous = this.queues.get(socket) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      socket,
      next.catch(() => undefined),
    );
    return next.then((ack) => {
      this.messages.handled(event, ack, started);
      return ack;
    });
  }
}
