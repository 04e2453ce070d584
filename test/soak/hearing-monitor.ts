import { setTimeout as sleep } from 'node:timers/promises';
import type { WrtcTestPeer } from '@app/calls/testing';
import { SILENT_BELOW_PPS } from '../support/audio-continuity';
import { FeedRate, ToneRates } from './tone-rates';

/** A participant as the monitor sees it. */
export interface HearingMember {
  readonly name: string;
  /** The call: only members of one group hear each other. */
  readonly group: string;
  readonly tone: number;
  readonly peer: WrtcTestPeer;
}

type SampleState = 'heard' | 'silent' | 'excluded';

interface Sample {
  /** When the sample was taken (ms since the epoch); it covers the `seconds` before. */
  readonly at: number;
  readonly seconds: number;
  readonly state: SampleState;
}

/** What one listener heard of one speaker within a window. */
export interface PairHearing {
  readonly listener: string;
  readonly speaker: string;
  /** The longest run of consecutive seconds without audio (excluded seconds neither add nor break). */
  readonly longestGapS: number;
  /** All seconds without audio. */
  readonly silentS: number;
  readonly measuredS: number;
  /**
   * Seconds left out because the speaker's process fed its tone too little (this process starved
   * of CPU): nothing to hear, whatever the servers did.
   */
  readonly excludedS: number;
}

/**
 * 10 ms frames per second a speaker's process must have fed for its seconds to count: what a
 * speaker sending {@link SILENT_BELOW_PPS} packets of 20 ms per second needs.
 */
const SPEAKING_FRAMES_PER_S = 2 * SILENT_BELOW_PPS;

/**
 * Measures, once a second for as long as it runs, whether every member hears every other member
 * of its call (RTP packets per second of the track that carries the speaker's tone, see
 * {@link ToneRates}), keeping every pair's seconds so that any window can be asked about later.
 * Members come and go (a participant that rejoins is tracked again under its name, with its new
 * peer); a speaker whose process fed too little audio in a second is left out of that second.
 */
export class HearingMonitor {
  private readonly members = new Map<
    string,
    { member: HearingMember; rates: ToneRates; feed: FeedRate }
  >();
  private readonly samples = new Map<string, Sample[]>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  /** Starts sampling every second. */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops sampling (waits for the sample under way). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Measures `member` from now on (replacing a member of the same name). */
  track(member: HearingMember): void {
    this.members.set(member.name, {
      member,
      rates: new ToneRates(member.peer),
      feed: new FeedRate(member.peer),
    });
  }

  /** Stops measuring the member of this name (its seconds so far are kept). */
  untrack(name: string): void {
    this.members.delete(name);
  }

  /**
   * Every pair of `names` in one call, as measured by the samples taken in (`from`, `to`].
   * @param names the participants whose pairs count (e.g. those that survived a fault)
   */
  window(from: number, to: number, names: ReadonlySet<string>): PairHearing[] {
    const result: PairHearing[] = [];
    for (const [key, samples] of this.samples) {
      const [listener, speaker] = key.split('<-');
      if (!names.has(listener) || !names.has(speaker)) continue;
      let run = 0;
      let longest = 0;
      let silent = 0;
      let measured = 0;
      let excluded = 0;
      for (const s of samples) {
        if (s.at <= from || s.at > to) continue;
        if (s.state === 'excluded') {
          excluded += s.seconds;
          continue;
        }
        measured += s.seconds;
        if (s.state === 'heard') run = 0;
        else {
          run += s.seconds;
          silent += s.seconds;
          longest = Math.max(longest, run);
        }
      }
      result.push({
        listener,
        speaker,
        longestGapS: longest,
        silentS: silent,
        measuredS: measured,
        excludedS: excluded,
      });
    }
    return result;
  }

  /** Pairs (`listener<-speaker`) of tracked members whose latest second was without audio. */
  silentNow(): string[] {
    const result: string[] = [];
    for (const [key, samples] of this.samples) {
      const [listener, speaker] = key.split('<-');
      if (!this.members.has(listener) || !this.members.has(speaker)) continue;
      const last = [...samples].reverse().find((s) => s.state !== 'excluded');
      if (last?.state === 'silent') result.push(key);
    }
    return result;
  }

  private async run(): Promise<void> {
    let next = Date.now();
    while (this.running) {
      next += 1000;
      await sleep(Math.max(0, next - Date.now()));
      if (Date.now() - next > 1000) next = Date.now(); // a starved loop does not catch up
      await this.sample();
    }
  }

  private async sample(): Promise<void> {
    const members = [...this.members.values()];
    const speaking = new Set<string>();
    for (const { member, feed } of members) {
      const rate = feed.read();
      if (rate !== null && rate >= SPEAKING_FRAMES_PER_S) speaking.add(member.name);
    }
    const at = Date.now();
    await Promise.all(
      members.map(async ({ member: listener, rates }) => {
        const speakers = members
          .map((m) => m.member)
          .filter((m) => m.group === listener.group && m !== listener);
        const read = await rates.read(speakers.map((s) => s.tone)).catch(() => null);
        // Null: the member's first read, or its peer closed meanwhile (it is rejoining).
        if (read && this.members.get(listener.name)?.member === listener) {
          this.record(listener, speakers, speaking, read.rates, read.seconds, at);
        }
      }),
    );
  }

  private record(
    listener: HearingMember,
    speakers: readonly HearingMember[],
    speaking: ReadonlySet<string>,
    rates: ReadonlyMap<number, number>,
    seconds: number,
    at: number,
  ): void {
    for (const speaker of speakers) {
      const key = `${listener.name}<-${speaker.name}`;
      const state: SampleState = !speaking.has(speaker.name)
        ? 'excluded'
        : (rates.get(speaker.tone) ?? 0) >= SILENT_BELOW_PPS
          ? 'heard'
          : 'silent';
      const list = this.samples.get(key) ?? [];
      list.push({ at, seconds, state });
      this.samples.set(key, list);
    }
  }
}
