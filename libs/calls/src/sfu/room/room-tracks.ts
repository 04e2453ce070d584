import type { types as ms } from 'mediasoup';
import type { MediaTrack } from '../../media/media-plane.interface';
import { producerTrack } from '../peer/peer-producers';

/** Where a room's track events go (the service's listeners). */
export interface RoomTrackEvents {
  added(callId: string, track: MediaTrack): void;
  removed(callId: string, producerId: string): void;
  paused(callId: string, producerId: string, paused: boolean): void;
}

/**
 * The tracks of one call on this instance: every producer of its room, local or piped in, from
 * when the room announces it until it closes. Reports each start, pause, resume and end once.
 */
export class RoomTracks {
  private readonly producers = new Map<string, ms.Producer>();

  constructor(
    private readonly callId: string,
    private readonly events: RoomTrackEvents,
  ) {}

  /** The live tracks, in the order they started. */
  list(): MediaTrack[] {
    return [...this.producers.values()].map((p) => producerTrack(this.callId, p));
  }

  /** Starts following a producer and reports it (once; a closed one is ignored). */
  add(producer: ms.Producer): void {
    if (producer.closed || this.producers.get(producer.id) === producer) return;
    this.producers.set(producer.id, producer);
    const { id } = producer;
    const current = () => this.producers.get(id) === producer;
    producer.observer.on('pause', () => {
      if (current()) this.events.paused(this.callId, id, true);
    });
    producer.observer.on('resume', () => {
      if (current()) this.events.paused(this.callId, id, false);
    });
    producer.observer.once('close', () => {
      if (!current()) return;
      this.producers.delete(id);
      this.events.removed(this.callId, id);
    });
    this.events.added(this.callId, producerTrack(this.callId, producer));
  }
}
