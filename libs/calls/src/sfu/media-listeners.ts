import { Logger } from '@nestjs/common';
import type { MediaPlaneListener } from '../media/media-plane.interface';

/** The listener methods, every one of them (`iceRestart` is optional to implement). */
type ListenerEvents = Required<MediaPlaneListener>;

/**
 * The listeners of the SFU's events ({@link MediaPlaneListener}). Listeners run synchronously, in
 * the order they subscribed; one that throws is logged and does not disturb the SFU or the others.
 */
export class MediaListeners {
  private readonly logger = new Logger(MediaListeners.name);
  private readonly listeners = new Set<MediaPlaneListener>();

  /**
   * Registers a listener.
   * @returns a function that removes it
   */
  add(listener: MediaPlaneListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Calls `event` on every listener that implements it, isolating their errors. */
  emit<K extends keyof ListenerEvents>(event: K, ...args: Parameters<ListenerEvents[K]>): void {
    for (const listener of [...this.listeners]) {
      const method = listener[event] as ((...a: Parameters<ListenerEvents[K]>) => void) | undefined;
      if (!method) continue;
      try {
        method.apply(listener, args);
      } catch (err) {
        this.logger.error(`listener of '${event}' threw: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
}
