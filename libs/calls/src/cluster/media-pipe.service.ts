import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import { InstanceBus } from './instance-bus';
import {
  type BusRequest,
  type BusResponse,
  parseBusRequest,
  parseBusResponse,
} from './instance-bus.messages';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { CallStateRepository, InjectCallStateRepository } from '../state/call-state.repository';
import { sfuNetworkSettings } from '../sfu/workers/sfu-network';
import { PipeMessage, type PipeMessageType } from '../sfu/pipe/pipe.messages';
import { pipeNetworkSettings, type PipeNetworkSettings } from '../sfu/pipe/pipe-network';
import {
  answerWithoutRoom,
  type PipeCluster,
  type PipedRoom,
  RoomPipes,
} from '../sfu/pipe/room-pipes';
import type { RoomPipesFactory } from '../sfu/pipe/room-pipes-factory.interface';

/** How long a pipe request waits for the other instance (ms). */
const PIPE_REQUEST_TIMEOUT_MS = 3000;
/** How often every room's pipes are reconciled with the other instances' producers (ms). */
export const PIPE_RECONCILE_INTERVAL_MS = 15_000;

/**
 * The distributed media plane: a call whose participants are served by several instances gets
 * mediasoup PipeTransports between those instances' rooms (UDP, SRTP), so every participant
 * receives every other one's media. Pipe parameters and producer announcements go through the
 * {@link InstanceBus}; which instances serve a call comes from the shared call state. Pipes to an
 * instance that died are closed ({@link dropInstance}, called by `MediaPipeInstances`). Every
 * {@link PIPE_RECONCILE_INTERVAL_MS} each room's imports are checked against what the other
 * instances list, which repairs what lost bus messages left behind (e.g. while Redis was down).
 *
 * The SFU's {@link RoomPipesFactory}. Inactive ({@link attach} gives `null`) with the memory
 * backend (one instance) and without media workers; nothing happens for a call that only one
 * instance serves.
 */
@Injectable()
export class MediaPipeService implements OnModuleInit, OnApplicationShutdown, RoomPipesFactory {
  private readonly logger = new Logger(MediaPipeService.name);
  private readonly rooms = new Map<string, RoomPipes>();
  private readonly cluster: PipeCluster;
  private reconcileTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions,
    @InjectCallStateRepository() private readonly state: CallStateRepository,
    private readonly bus: InstanceBus,
  ) {
    this.cluster = {
      settings: pipeNetworkSettings(options.pipeAddress, sfuNetworkSettings(options)),
      instancesOf: (callId) => this.instancesOf(callId),
      // The pipes build their payloads untyped: each is checked by its type's parser on the way out.
      request: async (instanceId, type, payload) =>
        this.bus.request(instanceId, type, parseBusRequest(type, payload), PIPE_REQUEST_TIMEOUT_MS),
      closed: (pipes) => {
        if (this.rooms.get(pipes.callId) === pipes) this.rooms.delete(pipes.callId);
      },
    };
  }

  /** Pipe settings (listen IP, announced address, ports). */
  get settings(): PipeNetworkSettings {
    return this.cluster.settings;
  }

  /** Whether rooms are piped: the state is shared (an instance bus) and this instance has media. */
  get enabled(): boolean {
    return this.bus.enabled && this.options.rtcWorkers !== 0;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    for (const type of Object.values(PipeMessage)) {
      this.bus.handle(type, (payload, from) => this.answer(type, payload, from));
    }
    this.reconcileTimer = setInterval(() => this.reconcileAll(), PIPE_RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
    this.logger.log(
      `media pipes between instances enabled [address=${this.settings.address}, listenIp=${this.settings.listenIp}, ports=${this.settings.portRange.min}-${this.settings.portRange.max}]`,
    );
  }

  onApplicationShutdown(): void {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
  }

  /**
   * Opens the pipes of a new room (the latest room of a call is the one other instances reach);
   * `null` when not {@link enabled}.
   */
  attach(room: PipedRoom): RoomPipes | null {
    if (!this.enabled) return null;
    const pipes = new RoomPipes(room, this.cluster);
    this.rooms.set(room.callId, pipes);
    return pipes;
  }

  /** Closes every pipe to an instance that is gone (dead, or shut down). */
  dropInstance(instanceId: string): void {
    let calls = 0;
    for (const pipes of this.rooms.values()) if (pipes.drop(instanceId)) calls++;
    if (calls > 0) {
      this.logger.warn(
        `instance gone, its pipes closed [instanceId=${instanceId}, calls=${calls}]`,
      );
    }
  }

  private reconcileAll(): void {
    for (const pipes of this.rooms.values()) {
      if (pipes.isClosed) continue;
      pipes.reconcile().then(
        ({ imported, closed }) => {
          if (imported + closed === 0) return;
          this.logger.warn(
            `pipes repaired by reconciliation [callId=${pipes.callId}, imported=${imported}, closed=${closed}]`,
          );
        },
        (err: Error) =>
          this.logger.warn(`pipe reconciliation failed [callId=${pipes.callId}]: ${err.message}`),
      );
    }
  }

  private async answer<K extends PipeMessageType>(
    type: K,
    payload: BusRequest<K>,
    from: string,
  ): Promise<BusResponse<K>> {
    const { callId } = payload;
    const pipes = this.rooms.get(callId);
    const answer =
      !pipes || pipes.isClosed
        ? answerWithoutRoom(type, callId, this.options.instanceId)
        : pipes.answer(type, payload, from);
    // The pipes answer untyped: checked by the type's response parser before it leaves.
    return parseBusResponse(type, await answer);
  }

  /** The other instances that serve sessions of the call, from the shared call state. */
  private async instancesOf(callId: string): Promise<string[]> {
    const call = await this.state.getCall(callId);
    if (!call) return [];
    const ids = new Set(Object.values(call.sessions).map((s) => s.instanceId));
    ids.delete(this.options.instanceId);
    return [...ids];
  }
}
