import { Logger } from '@nestjs/common';
import type { types as ms } from 'mediasoup';

/** Called when a voice producer starts or stops being heard. */
export type VoiceChangeListener = (producer: ms.Producer, speaking: boolean) => void;

/** AudioLevelObserver settings: dBov threshold, report interval (ms). */
const THRESHOLD_DBOV = -55;
const INTERVAL_MS = 300;

/**
 * Who is speaking in one router: a mediasoup AudioLevelObserver over the voice producers,
 * reduced to speaking/silent transitions per producer.
 */
export class VoiceActivityMonitor {
  private readonly logger = new Logger(VoiceActivityMonitor.name);
  private readonly speaking = new Set<ms.Producer>();

  private constructor(
    private readonly observer: ms.AudioLevelObserver,
    private readonly onChange: VoiceChangeListener,
  ) {
    observer.on('volumes', (volumes) => this.update(new Set(volumes.map((v) => v.producer))));
    observer.on('silence', () => this.update(new Set()));
  }

  /** Creates the observer on the router. */
  static async create(
    router: ms.Router,
    onChange: VoiceChangeListener,
  ): Promise<VoiceActivityMonitor> {
    const observer = await router.createAudioLevelObserver({
      maxEntries: 64,
      threshold: THRESHOLD_DBOV,
      interval: INTERVAL_MS,
    });
    return new VoiceActivityMonitor(observer, onChange);
  }

  /** Starts watching a voice producer. */
  async add(producer: ms.Producer): Promise<void> {
    if (this.observer.closed || producer.closed) return;
    try {
      await this.observer.addProducer({ producerId: producer.id });
    } catch (err) {
      this.logger.warn(`cannot watch voice [producerId=${producer.id}]: ${(err as Error).message}`);
    }
    producer.observer.once('close', () => this.forget(producer));
  }

  /** Stops watching a producer, reporting it silent if it was speaking. */
  forget(producer: ms.Producer): void {
    if (this.speaking.delete(producer)) this.onChange(producer, false);
    if (!this.observer.closed && !producer.closed) {
      this.observer.removeProducer({ producerId: producer.id }).catch(() => undefined);
    }
  }

  /** Reports a producer silent now (e.g. it was paused) without waiting for the next interval. */
  silence(producer: ms.Producer): void {
    if (this.speaking.delete(producer)) this.onChange(producer, false);
  }

  /** Closes the observer; everyone still speaking is reported silent. */
  close(): void {
    for (const producer of [...this.speaking]) this.silence(producer);
    this.observer.close();
  }

  private update(now: Set<ms.Producer>): void {
    for (const producer of [...this.speaking]) {
      if (!now.has(producer)) this.silence(producer);
    }
    for (const producer of now) {
      if (!this.speaking.has(producer) && !producer.closed && !producer.paused) {
        this.speaking.add(producer);
        this.onChange(producer, true);
      }
    }
  }
}
