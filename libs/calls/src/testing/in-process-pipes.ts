import type { RoomPipesFactory } from '../sfu/pipe/room-pipes-factory.interface';
import { answerWithoutRoom, type PipedRoom, RoomPipes } from '../sfu/pipe/room-pipes';

/**
 * The pipes between several instances' SFUs in one process ({@link SfuHarness}es): each
 * instance's `RoomPipesFactory` comes from {@link factory}, and a pipe request goes to the other
 * instance's room of the call as the instance bus would carry it (payloads through JSON, like on
 * Redis). Real pipe transports on loopback.
 */
export class InProcessPipes {
  private readonly rooms = new Map<string, Map<string, RoomPipes>>();

  /** The pipes factory of the instance `instanceId`. */
  factory(instanceId: string): RoomPipesFactory {
    const mine = new Map<string, RoomPipes>();
    this.rooms.set(instanceId, mine);
    return {
      attach: (room: PipedRoom) => {
        const pipes: RoomPipes = new RoomPipes(room, {
          settings: {
            listenIp: '127.0.0.1',
            address: '127.0.0.1',
            portRange: { min: 40000, max: 49999 },
          },
          instancesOf: () =>
            Promise.resolve([...this.rooms.keys()].filter((id) => id !== instanceId)),
          request: async (to, type, payload) => {
            const target = this.rooms.get(to)?.get(room.callId);
            const body = JSON.parse(JSON.stringify(payload)) as unknown;
            const answer = target
              ? await target.answer(type, body, instanceId)
              : await answerWithoutRoom(type, room.callId, to);
            return JSON.parse(JSON.stringify(answer ?? {})) as unknown;
          },
          closed: (p) => {
            if (mine.get(room.callId) === p) mine.delete(room.callId);
          },
        });
        mine.set(room.callId, pipes);
        return pipes;
      },
    };
  }
}
