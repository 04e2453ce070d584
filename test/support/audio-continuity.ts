import type { WrtcTestPeer } from '@app/calls/testing';

/** A participant as the monitor sees it: its peer and the tone it sends. */
export interface TonePeer {
  readonly name: string;
  readonly peer: WrtcTestPeer;
  readonly tone: number;
}

/** Seconds without audio from one speaker at one listener. */
export interface PairGap {
  readonly listener: string;
  readonly speaker: string;
  /** Seconds in which fewer than {@link SILENT_BELOW_PPS} packets per second arrived. */
  readonly silentSeconds: number;
  /** Seconds measured for the pair. */
  readonly seconds: number;
  /**
   * Seconds left out because the speaker itself sent less than {@link SILENT_BELOW_PPS} (the test
   * process, which feeds the tones, was starved of CPU): nothing to hear, whatever the server did.
   */
  readonly notSpeakingSeconds: number;
}

/** Opus at 20 ms sends 50 packets per second; a second below this is a second without audio. */
export const SILENT_BELOW_PPS = 10;

/** Shortest interval a sample counts over (s). */
const MIN_INTERVAL_S = 0.75;

/**
 * Measures, every second, the RTP packets each participant receives from each other participant
 * (`inbound-rtp` `packetsReceived` of the transceiver that carries the speaker's tone, told apart
 * by frequency when the monitor starts). A second in which fewer than {@link SILENT_BELOW_PPS}
 * arrive is a second the listener did not hear that speaker; a track that is gone counts as
 * silent. Sampling late (a loaded machine) spreads the count over the longer interval; a second in
 * which the speaker itself did not send (its tone is fed by this process's timers, which a loaded
 * machine may starve) is left out of its pairs and counted apart.
 */
export class AudioContinuity {
  private readonly mids = new Map<string, Map<number, string>>();
  private readonly last = new Map<string, number>();
  private readonly gaps = new Map<string, { silent: number; seconds: number; excluded: number }>();
  private readonly sent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private sampledAt = 0;
  private sampling: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  private constructor(private readonly people: readonly TonePeer[]) {}

  /**
   * Starts measuring. Every participant must already hear every other one (one track each).
   * @throws when a listener has no track for a speaker's tone
   */
  static async start(
    people: readonly TonePeer[],
    candidatesHz: readonly number[],
  ): Promise<AudioContinuity> {
    const monitor = new AudioContinuity(people);
    for (const listener of people) {
      const byTone = new Map<number, string>();
      for (const heard of listener.peer.heardTones(candidatesHz, 0.5)) {
        if (heard.mid !== null && heard.share > 0.8) byTone.set(heard.frequencyHz, heard.mid);
      }
      for (const speaker of people) {
        if (speaker !== listener && !byTone.has(speaker.tone)) {
          throw new Error(`${listener.name} has no track with ${speaker.name}'s tone`);
        }
      }
      monitor.mids.set(listener.name, byTone);
    }
    await monitor.sample(false);
    monitor.timer = setInterval(() => {
      monitor.sampling = monitor.sampling
        .then(() => monitor.sample(true))
        .catch((err: unknown) => {
          // A sample failed (e.g. the test failed before stop() and closed its peers): stop
          // sampling here, so no timer outlives its test and fails the next suite; stop() rethrows.
          monitor.failure ??= err instanceof Error ? err : new Error(String(err));
          monitor.cancel();
        });
    }, 1000);
    return monitor;
  }

  /** Stops measuring and returns the gaps of every pair. @throws the first failed sample */
  async stop(): Promise<PairGap[]> {
    this.cancel();
    await this.sampling;
    if (this.failure) throw this.failure;
    await this.sample(true);
    return this.result();
  }

  private cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The gaps so far. */
  result(): PairGap[] {
    return [...this.gaps].map(([key, g]) => {
      const [listener, speaker] = key.split('<-');
      return {
        listener,
        speaker,
        silentSeconds: g.silent,
        seconds: g.seconds,
        notSpeakingSeconds: g.excluded,
      };
    });
  }

  private async sample(count: boolean): Promise<void> {
    const now = performance.now();
    const elapsedS = (now - this.sampledAt) / 1000;
    // Two samples close together (timers firing late, back to back) say nothing about a second.
    if (count && elapsedS < MIN_INTERVAL_S) return;
    this.sampledAt = now;
    const speaking = new Set<string>();
    await Promise.all(
      this.people.map(async (speaker) => {
        const packets = await speaker.peer.sentAudioPackets();
        const before = this.sent.get(speaker.name) ?? packets;
        this.sent.set(speaker.name, packets);
        if ((packets - before) / elapsedS >= SILENT_BELOW_PPS) speaking.add(speaker.name);
      }),
    );
    await Promise.all(
      this.people.map(async (listener) => {
        const packetsByMid = new Map<string, number>();
        for (const s of await listener.peer.inboundRtp()) {
          if (s.kind === 'audio' && s.mid !== null) packetsByMid.set(s.mid, s.packets);
        }
        const receiving = new Set(listener.peer.receiving('audio').map((t) => t.mid));
        for (const speaker of this.people) {
          if (speaker === listener) continue;
          const key = `${listener.name}<-${speaker.name}`;
          const mid = this.mids.get(listener.name)!.get(speaker.tone)!;
          const packets = receiving.has(mid) ? (packetsByMid.get(mid) ?? 0) : 0;
          const before = this.last.get(key) ?? packets;
          this.last.set(key, packets);
          if (!count) continue;
          const seconds = Math.max(1, Math.round(elapsedS));
          const rate = Math.max(0, packets - before) / elapsedS;
          const gap = this.gaps.get(key) ?? { silent: 0, seconds: 0, excluded: 0 };
          if (!speaking.has(speaker.name)) gap.excluded += seconds;
          else {
            gap.seconds += seconds;
            if (rate < SILENT_BELOW_PPS) gap.silent += seconds;
          }
          this.gaps.set(key, gap);
        }
      }),
    );
  }
}
