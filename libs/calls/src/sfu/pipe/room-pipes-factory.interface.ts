import { Inject } from '@nestjs/common';
import type { PipedRoom, RoomPipes } from './room-pipes';

/**
 * Seam between the SFU and the cluster: opens the media pipes of a new room to the other
 * instances serving its call. `MediaPipeService` (cluster/) provides it; without a provider, or
 * when it returns `null`, every instance's rooms are on their own.
 */
export interface RoomPipesFactory {
  /** The pipes of a new room, started by the room; `null` when this instance does not pipe. */
  attach(room: PipedRoom): RoomPipes | null;
}

/** Injection token of {@link RoomPipesFactory}. */
export const RoomPipesFactory = Symbol('RoomPipesFactory');

/** Injects the {@link RoomPipesFactory}. */
export const InjectRoomPipesFactory = (): ParameterDecorator => Inject(RoomPipesFactory);
