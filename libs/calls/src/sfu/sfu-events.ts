import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { SfuEvents } from './sfu.types';

/**
 * The SFU's typed event emitter. Listeners run synchronously; one that throws is logged and does
 * not disturb the SFU or the other listeners.
 */
export class SfuEventEmitter extends EventEmitter<SfuEvents> {
  private readonly logger = new Logger(SfuEventEmitter.name);

  /** Emits to every listener, isolating their errors. */
  safeEmit<K extends keyof SfuEvents>(event: K, ...args: SfuEvents[K]): void {
    for (const listener of this.listeners(event) as ((...a: SfuEvents[K]) => void)[]) {
      try {
        listener(...args);
      } catch (err) {
        this.logger.error(`listener of '${event}' threw: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
}
